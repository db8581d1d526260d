import { DEFAULT_LANE, type EnqueueOptions, type JobRegistry, type WorkerOptions } from '../../ports/job-queue.js';
import { assertValidConcurrency } from './retry-delay.js';

/** One lane of a worker: the job names it takes and how many of them run at once. */
export interface WorkerLane {
  readonly lane: string;
  readonly names: readonly string[];
  readonly capacity: number;
}

/**
 * The worker's lanes: the default one with `concurrency`, and each lane a registration names with
 * its capacity from `lanes`. A lane without a capacity fails the start instead of never running.
 */
export function workerLanes(registry: JobRegistry, options: WorkerOptions): WorkerLane[] {
  assertValidConcurrency(options.concurrency);
  const namesByLane = new Map<string, string[]>();
  for (const [name, registration] of registry) {
    const lane = registration.lane ?? DEFAULT_LANE;
    namesByLane.set(lane, [...(namesByLane.get(lane) ?? []), name]);
  }
  const lanes: WorkerLane[] = [];
  for (const [lane, names] of namesByLane) {
    const capacity = lane === DEFAULT_LANE ? options.concurrency : options.lanes?.get(lane);
    if (capacity === undefined) throw new Error(`job lane "${lane}" (jobs ${names.join(', ')}) has no capacity in the worker's lanes`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`job lane "${lane}" capacity must be an integer >= 1, got ${capacity}`);
    lanes.push({ lane, names, capacity });
  }
  return lanes;
}

/** The lane an enqueue names, refusing a fairness key the default lane would ignore. */
export function enqueueLane(name: string, options: EnqueueOptions): string {
  const lane = options.lane ?? DEFAULT_LANE;
  if (options.fairnessKey !== undefined && lane === DEFAULT_LANE) {
    throw new Error(`job "${name}": a fairness key is only honoured in a named lane, and none was given`);
  }
  return lane;
}
