import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { FairScheduler } from '../../src/services/transform/fair-scheduler.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('FairScheduler', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    const scheduler = new FairScheduler({ concurrency: 2, maxQueuedPerProject: 100 });
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
    const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerProject: 1000 });
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
    const scheduler = new FairScheduler({ concurrency: 2, maxQueuedPerProject: 1000 });
    const gate = deferred();
    const flood = Array.from({ length: 20 }, () => scheduler.run('A', 'interactive', () => gate.promise));
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
    const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerProject: 100 });
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
    const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerProject: 2 });
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
    const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerProject: 10 });
    await expect(scheduler.run('A', 'interactive', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await scheduler.run('A', 'interactive', async () => 'next')).toBe('next');
    expect(scheduler.active).toBe(0);
  });
});
