import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { MemorySlotBoard, MemorySlotLedger } from '../../src/adapters/slots/memory.slot-ledger.js';
import { FairScheduler, type Priority } from '../../src/services/transform/fair-scheduler.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Settings = ConstructorParameters<typeof FairScheduler>[0];

/** A scheduler with a ledger of its own: one process, as without Redis. */
function alone(settings: Settings): FairScheduler {
  return new FairScheduler(settings, new MemorySlotLedger({ slots: settings.concurrency, nodeTtlMs: 60_000 }));
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('FairScheduler', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    const scheduler = alone({ concurrency: 2, maxQueuedPerProject: 100 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        scheduler.run('p', 'interactive', async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });

  it('serves projects in turn: a flood from A does not delay B behind it', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 1000 });
    const gate = deferred();
    const order: string[] = [];
    const blocker = scheduler.run('A', 'interactive', () => gate.promise);
    const flood = Array.from({ length: 50 }, (_, i) => scheduler.run('A', 'interactive', async () => void order.push(`A${i}`)));
    const fromB = scheduler.run('B', 'interactive', async () => void order.push('B'));
    gate.resolve();
    await Promise.all([blocker, ...flood, fromB]);
    expect(order.indexOf('B')).toBeLessThanOrEqual(1);
  });

  it('starts a quiet project at once in a burst slot while a flood holds every slot', async () => {
    const scheduler = alone({ concurrency: 2, maxQueuedPerProject: 1000 });
    const gate = deferred();
    const flood = Array.from({ length: 20 }, () => scheduler.run('A', 'interactive', () => gate.promise));
    // Slots are granted by the ledger asynchronously: let the flood take them first.
    await tick();
    let started: string[] = [];
    const fromB = scheduler.run('B', 'interactive', async () => void started.push('B'));
    const secondFromB = scheduler.run('B', 'interactive', async () => void started.push('B2'));
    const fromC = scheduler.run('C', 'interactive', async () => void started.push('C'));
    const backgroundFromD = scheduler.run('D', 'background', async () => void started.push('D'));
    await fromB;
    // One burst slot: B took it; B's second request, C and background work wait for a free slot.
    expect(started).toEqual(['B']);
    expect(scheduler.active).toBe(2);
    started = [];
    gate.resolve();
    await Promise.all([...flood, secondFromB, fromC, backgroundFromD]);
    expect(started.indexOf('D')).toBe(2);
  });

  it('runs interactive work before background work', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 100 });
    const gate = deferred();
    const order: string[] = [];
    const blocker = scheduler.run('A', 'background', () => gate.promise);
    const background = scheduler.run('A', 'background', async () => void order.push('background'));
    const interactive = scheduler.run('B', 'interactive', async () => void order.push('interactive'));
    gate.resolve();
    await Promise.all([blocker, background, interactive]);
    expect(order).toEqual(['interactive', 'background']);
  });

  it('refuses work beyond a project queue with 503 and Retry-After, without affecting others', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 2 });
    const gate = deferred();
    const blocker = scheduler.run('A', 'interactive', () => gate.promise);
    const queued = [scheduler.run('A', 'interactive', async () => 1), scheduler.run('A', 'interactive', async () => 2)];
    const refused = scheduler.run('A', 'interactive', async () => 3);
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({ statusCode: 503, headers: { 'retry-after': '2' } });
    const other = scheduler.run('B', 'interactive', async () => 'b');
    gate.resolve();
    expect(await Promise.all([blocker, ...queued, other])).toEqual([undefined, 1, 2, 'b']);
  });

  it('passes task failures to the caller and frees the slot', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 10 });
    await expect(scheduler.run('A', 'interactive', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await scheduler.run('A', 'interactive', async () => 'next')).toBe('next');
    expect(scheduler.active).toBe(0);
  });

  it('runs interactive work before eager work before background work, within one project', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 100 });
    const gate = deferred();
    const order: Priority[] = [];
    const blocker = scheduler.run('A', 'interactive', () => gate.promise);
    await tick();
    const queued = (['background', 'eager', 'interactive', 'background', 'eager'] as const).map((priority) =>
      scheduler.run('A', priority, async () => void order.push(priority)),
    );
    gate.resolve();
    await Promise.all([blocker, ...queued]);
    expect(order).toEqual(['interactive', 'eager', 'eager', 'background', 'background']);
  });

  it('never starves lower priorities: a class passed over turn - 1 times takes the next slot', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 100, lowerPriorityTurn: 4 });
    const gate = deferred();
    const order: string[] = [];
    const blocker = scheduler.run('A', 'interactive', () => gate.promise);
    await tick();
    // Steady interactive work: far more than the slots can take while the others wait.
    const interactive = Array.from({ length: 20 }, (_, i) => scheduler.run('A', 'interactive', async () => void order.push(`I${i}`)));
    const background = scheduler.run('G', 'background', async () => void order.push('G'));
    const eager = scheduler.run('E', 'eager', async () => void order.push('E'));
    gate.resolve();
    await Promise.all([blocker, ...interactive, background, eager]);
    // Three interactive hand-offs pass both over; background's turn comes first (it has waited
    // longest in rank), then eager's, then interactive work again.
    expect(order.slice(0, 6)).toEqual(['I0', 'I1', 'I2', 'G', 'E', 'I3']);
    expect(order).toHaveLength(22);
  });

  it('counts the waiting tasks of every priority against the queue bound', async () => {
    const scheduler = alone({ concurrency: 1, maxQueuedPerProject: 2 });
    const gate = deferred();
    const blocker = scheduler.run('A', 'interactive', () => gate.promise);
    await tick();
    const queued = [scheduler.run('A', 'background', async () => 1), scheduler.run('A', 'eager', async () => 2)];
    await expect(scheduler.run('A', 'interactive', async () => 3)).rejects.toMatchObject({ statusCode: 503, code: 'TRANSFORM_QUEUE_FULL' });
    expect(scheduler.queued().get('A')).toEqual({ interactive: 0, eager: 1, background: 1 });
    gate.resolve();
    expect(await Promise.all([blocker, ...queued])).toEqual([undefined, 1, 2]);
  });
});

/** Tasks that run until they are told to end, counting how many of each project's run at once. */
class Tasks {
  running = new Map<string, number>();
  peak = new Map<string, number>();
  private readonly ends = new Map<string, Array<() => void>>();

  /** A task of `project`; `where` names the node, so a test can end that node's tasks. */
  task(project: string, where: string): () => Promise<void> {
    return () =>
      new Promise<void>((resolve) => {
        this.running.set(project, (this.running.get(project) ?? 0) + 1);
        this.peak.set(project, Math.max(this.peak.get(project) ?? 0, this.running.get(project)!));
        const key = `${project}@${where}`;
        this.ends.set(key, [
          ...(this.ends.get(key) ?? []),
          () => {
            this.running.set(project, this.running.get(project)! - 1);
            resolve();
          },
        ]);
      });
  }

  /** Ends the oldest running task of the project on that node. */
  finishOne(project: string, where: string): void {
    const end = this.ends.get(`${project}@${where}`)?.shift();
    if (!end) throw new Error(`no running task of ${project} on ${where}`);
    end();
  }

  finishAll(): void {
    for (const list of this.ends.values()) for (const end of list.splice(0)) end();
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('FairScheduler with a ledger shared by two nodes', () => {
  function cluster(concurrency: number) {
    const board = new MemorySlotBoard();
    const denials: Priority[] = [];
    const node = () =>
      new FairScheduler({ concurrency, maxQueuedPerProject: 1000, retryMs: 20 }, new MemorySlotLedger({ board, slots: concurrency, nodeTtlMs: 60_000 }), {
        denied: (priority) => void denials.push(priority),
      });
    const x = node();
    const y = node();
    x.start();
    y.start();
    return { x, y, denials, close: () => Promise.all([x.close(), y.close()]) };
  }

  async function drain(tasks: Tasks, work: Array<Promise<unknown>>): Promise<void> {
    const ender = setInterval(() => tasks.finishAll(), 2);
    await Promise.all(work);
    clearInterval(ender);
  }

  it('holds a flooding project to its share across both nodes while another project has work, and gives it back after', async () => {
    const { x, y, denials, close } = cluster(1);
    const tasks = new Tasks();
    const flood = [...Array.from({ length: 5 }, () => x.run('A', 'interactive', tasks.task('A', 'x'))), ...Array.from({ length: 5 }, () => y.run('A', 'interactive', tasks.task('A', 'y')))];
    await settle();
    // Alone, A holds both nodes' slots.
    expect(tasks.running.get('A')).toBe(2);
    const fromB = x.run('B', 'interactive', tasks.task('B', 'x'));
    await settle();
    // B starts at once in X's burst slot.
    expect(tasks.running.get('B')).toBe(1);
    // A's task on Y ends. With B at work, A's share is 1 of the 2 slots, and A holds X's: Y's next
    // A task is refused and Y's slot waits, so B's task shares the cores with one of A's, not two.
    tasks.finishOne('A', 'y');
    await settle();
    expect(tasks.running.get('A')).toBe(1);
    expect(y.active).toBe(0);
    expect(denials).toContain('interactive');
    // B is done: its demand leaves the ledger, the notice wakes Y, and A has both slots again.
    tasks.finishOne('B', 'x');
    await fromB;
    await settle();
    expect(tasks.running.get('A')).toBe(2);
    await drain(tasks, flood);
    await close();
  });

  it('skips a project over its share in the turn: the slot goes to the next project with work', async () => {
    const { x, y, close } = cluster(2);
    const tasks = new Tasks();
    const fromA = [...Array.from({ length: 6 }, () => y.run('A', 'interactive', tasks.task('A', 'y'))), ...Array.from({ length: 6 }, () => x.run('A', 'background', tasks.task('A', 'x')))];
    await settle();
    expect(tasks.running.get('A')).toBe(4);
    // B and C queue behind A on X: three projects with work on 4 slots, shares of ⌈4/3⌉ = 2.
    const fromB = [x.run('B', 'background', tasks.task('B', 'x')), x.run('B', 'background', tasks.task('B', 'x'))];
    const fromC = [x.run('C', 'background', tasks.task('C', 'x')), x.run('C', 'background', tasks.task('C', 'x'))];
    await settle();
    // X's two A tasks end. A still holds Y's two slots, its whole share, so although A is next in
    // X's turn, X's slots go to B and C.
    tasks.finishOne('A', 'x');
    tasks.finishOne('A', 'x');
    await settle();
    expect(tasks.running.get('A')).toBe(2);
    expect([tasks.running.get('B'), tasks.running.get('C')]).toEqual([1, 1]);
    await drain(tasks, [...fromA, ...fromB, ...fromC]);
    expect(tasks.peak.get('B')).toBeLessThanOrEqual(2);
    await close();
  });

  it('keeps a node\'s slots out of the total once it stops renewing its registration', async () => {
    let now = 0;
    const board = new MemorySlotBoard(() => now);
    const gone = new MemorySlotLedger({ board, slots: 3, nodeTtlMs: 1_000 });
    const live = new MemorySlotLedger({ board, slots: 1, nodeTtlMs: 1_000 });
    expect(await gone.acquire('A', 5)).toMatchObject({ granted: true });
    // Two projects with plenty of work on 4 slots: 2 each; A holds one on the node about to die.
    expect(await live.acquire('B', 5)).toMatchObject({ granted: true });
    expect(await live.acquire('A', 5)).toMatchObject({ granted: true });
    expect(await live.acquire('A', 5)).toMatchObject({ granted: false, share: 2, held: 2 });
    now = 800;
    await live.reportDemand(new Map([['B', 5]]));
    now = 1_500;
    // The dead node's slots and its lease are gone: 1 slot in all, A holds 1 (on the live node).
    expect(await live.acquire('A', 5)).toMatchObject({ granted: false, share: 1, held: 1 });
  });
});
