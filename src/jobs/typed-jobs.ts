import type { Static, TObject } from 'typebox';
import { Value } from 'typebox/value';
import type { EnqueueOptions, JobPayload, JobQueue, JobRegistration, RunningJob } from '../ports/job-queue.js';
import type { JobDefinition, JobSettings } from './catalogue.js';

/** Problems named in a dead job's reason; the first few say enough to find the producer. */
const MAX_PROBLEMS = 5;

/** Enqueues a job of the catalogue; a payload that does not fit the job's schema does not compile. */
export function enqueueJob<Schema extends TObject>(
  queue: JobQueue,
  job: JobDefinition<Schema>,
  payload: Static<Schema>,
  options?: EnqueueOptions,
): Promise<string> {
  // A payload schema describes a JSON object, whose static type is a JobPayload.
  return queue.enqueue(job.name, payload as JobPayload, job.lane === undefined ? options : { ...options, lane: job.lane });
}

/** The registration of a catalogue job: its policy, its payload check and a handler that takes the typed payload. */
export function bindJob<Schema extends TObject>(
  job: JobDefinition<Schema>,
  handler: (run: RunningJob<Static<Schema>>) => Promise<void>,
  settings: JobSettings,
): JobRegistration {
  return {
    ...job.policy(settings),
    ...(job.lane === undefined ? {} : { lane: job.lane }),
    checkPayload: (payload) => payloadProblem(job, payload),
    handler: async (run) => {
      const { payload } = run;
      // The worker has refused a wrong payload already; checking again narrows the type without a cast.
      if (!Value.Check(job.payload, payload)) throw new Error(payloadProblem(job, payload) ?? `payload of ${job.name} does not match`);
      await handler({ ...run, payload });
    },
  };
}

/** What is wrong with a payload, as a dead job's reason (`payload of file.purge: /uuid must be string`), or null. */
export function payloadProblem(job: JobDefinition, payload: unknown): string | null {
  if (Value.Check(job.payload, payload)) return null;
  const problems: string[] = [];
  for (const error of Value.Errors(job.payload, payload)) {
    problems.push(`${error.instancePath || '/'} ${error.message}`);
    if (problems.length === MAX_PROBLEMS) break;
  }
  return `payload of ${job.name}: ${problems.join('; ')}`;
}
