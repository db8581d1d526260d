import { randomUUID } from 'node:crypto';
import { fairShare } from '../../domain/slot-share.js';
import type { ProjectWork, SlotDecision, SlotLease, SlotLedger } from '../../ports/slot-ledger.js';

interface NodeEntry {
  slots: number;
  expiresAt: number;
  /** Waiting + running work per project on this node. */
  demand: Map<string, number>;
  /** Slots held per project on this node. */
  held: Map<string, number>;
}

/**
 * The ledger's state for the nodes of one process. A process normally has one node (its own
 * scheduler); tests put several schedulers on one board to act as a cluster.
 */
export class MemorySlotBoard {
  readonly nodes = new Map<string, NodeEntry>();
  readonly listeners = new Set<() => void>();

  constructor(readonly now: () => number = Date.now) {}

  /** Drops nodes whose registration ran out, with their demand and slots. */
  purge(): void {
    const now = this.now();
    for (const [id, node] of this.nodes) if (node.expiresAt <= now) this.nodes.delete(id);
  }

  notify(): void {
    // Later, not inside the caller's call: a listener may call back into the ledger.
    queueMicrotask(() => {
      for (const listener of [...this.listeners]) listener();
    });
  }
}

interface MemorySlotLedgerOptions {
  /** This node's slots (its TROVE_TRANSFORM_CONCURRENCY). */
  slots: number;
  /** A node that sends no heartbeat for this long drops out. */
  nodeTtlMs: number;
  /** Other schedulers of this process that share the slots; default: a board of its own. */
  board?: MemorySlotBoard;
  nodeId?: string;
}

/**
 * The ledger inside one process: with one node on its board, shares split the process's own slots
 * between its projects, which is what the scheduler did on its own before the ledger existed.
 */
export class MemorySlotLedger implements SlotLedger {
  readonly nodeId: string;
  private readonly board: MemorySlotBoard;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: MemorySlotLedgerOptions) {
    this.board = options.board ?? new MemorySlotBoard();
    this.nodeId = options.nodeId ?? randomUUID();
  }

  async acquire(projectId: string, demand: number): Promise<SlotDecision> {
    const self = this.register();
    setCount(self.demand, projectId, demand);
    let total = 0;
    let held = 0;
    const demands = new Map<string, number>();
    for (const node of this.board.nodes.values()) {
      total += node.slots;
      held += node.held.get(projectId) ?? 0;
      for (const [project, count] of node.demand) demands.set(project, (demands.get(project) ?? 0) + count);
    }
    demands.set(projectId, Math.max(demands.get(projectId) ?? 0, held + 1));
    const share = fairShare(total, demands.values());
    if (held >= share) return { granted: false, share, held };
    setCount(self.held, projectId, (self.held.get(projectId) ?? 0) + 1);
    return { granted: true, lease: this.lease(projectId), failedOpen: false };
  }

  async reportDemand(demand: ReadonlyMap<string, number>): Promise<void> {
    const self = this.register();
    let dropped = false;
    for (const [project, count] of demand) {
      if (count <= 0 && self.demand.has(project)) dropped = true;
      setCount(self.demand, project, count);
    }
    if (dropped) this.board.notify();
  }

  async heartbeat(work: ReadonlyMap<string, ProjectWork>): Promise<void> {
    const self = this.register();
    self.demand.clear();
    self.held.clear();
    for (const [project, { waiting, running }] of work) {
      setCount(self.demand, project, waiting + running);
      setCount(self.held, project, running);
    }
  }

  onChange(listener: () => void): () => void {
    this.board.listeners.add(listener);
    this.listeners.add(listener);
    return () => {
      this.board.listeners.delete(listener);
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    for (const listener of this.listeners) this.board.listeners.delete(listener);
    this.listeners.clear();
    if (this.board.nodes.delete(this.nodeId)) this.board.notify();
  }

  /** Renews this node's registration (creating it if it expired) and returns its entry. */
  private register(): NodeEntry {
    this.board.purge();
    let self = this.board.nodes.get(this.nodeId);
    if (!self) {
      self = { slots: this.options.slots, expiresAt: 0, demand: new Map(), held: new Map() };
      this.board.nodes.set(this.nodeId, self);
    }
    self.expiresAt = this.board.now() + this.options.nodeTtlMs;
    return self;
  }

  private lease(projectId: string): SlotLease {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // An expired registration took its slots with it: nothing is left to give back.
        const self = this.board.nodes.get(this.nodeId);
        if (!self) return;
        setCount(self.held, projectId, (self.held.get(projectId) ?? 0) - 1);
        this.board.notify();
      },
    };
  }
}

function setCount(counts: Map<string, number>, key: string, count: number): void {
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
}
