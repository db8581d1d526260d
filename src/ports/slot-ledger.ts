/**
 * Transform slots shared by every transform-capable process of a cluster. Each process (a node)
 * registers its own slots; a project may hold at most its share of the cluster's slots at once.
 *
 * The share is a max-min fair split of the total (see `src/domain/slot-share.ts`): projects whose
 * demand (waiting + running work, summed over nodes) is below an equal split get all of it, and the
 * rest is split equally, rounded up, between the others — at least one slot each. A project that
 * asks for less than its share never holds a slot another project needed, and no slot is left idle
 * while a project over its share has work.
 *
 * Registrations, demand and held slots belong to a node and expire with it: a node that stops
 * renewing its registration (it crashed) drops out of the total, and the slots it held come back.
 * Every call is best effort: when the shared store is unreachable, `acquire` grants (fail open),
 * so an outage costs fairness between nodes, never a stall.
 */
export interface SlotLease {
  /** Gives the slot back; a second call does nothing. Never throws. */
  release(): Promise<void>;
}

export type SlotDecision =
  | { granted: true; lease: SlotLease; /** The store could not be asked: granted without counting. */ failedOpen: boolean }
  | { granted: false; /** The project's share of the cluster's slots now. */ share: number; /** Slots it holds across the cluster. */ held: number };

/** What one node has of one project's work: `waiting` + `running` is its demand there. */
export interface ProjectWork {
  waiting: number;
  running: number;
}

export interface SlotLedger {
  /**
   * Takes one of the project's slots if it holds fewer than its share. `demand`: the project's
   * waiting + running work on this node, the task asking included; it is recorded with the
   * decision, so the share already counts it. Never throws.
   */
  acquire(projectId: string, demand: number): Promise<SlotDecision>;
  /** Records this node's demand for these projects (0: none left here). Never throws. */
  reportDemand(demand: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Renews this node's registration and replaces what the ledger holds for it with the node's own
   * account of its work, which corrects any count a lost call left wrong. Never throws.
   */
  heartbeat(work: ReadonlyMap<string, ProjectWork>): Promise<void>;
  /** Called when slots may have come free somewhere in the cluster. Returns a function that stops listening. */
  onChange(listener: () => void): () => void;
  /** Withdraws this node's registration (a clean shutdown) and stops listening. */
  close(): Promise<void>;
}
