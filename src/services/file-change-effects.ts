import type { StoredFile } from '../domain/file.js';
import type { WebhookInitiator } from '../domain/webhook.js';
import type { FileCounts, NewOutboxEvent } from '../ports/repositories.js';

/** What a change to files implies beyond the rows: the events it records and how the project counters move. */
export interface FileChangeEffects {
  events: NewOutboxEvent[];
  /** One entry per project whose counters move. */
  counters: Array<{ projectId: string; delta: FileCounts }>;
}

/** A file's state as the counters see it: exactly one of these at any time. */
type CountedState = keyof FileCounts;

function countedState(file: Pick<StoredFile, 'datetimeStored' | 'datetimeRemoved'>): CountedState {
  if (file.datetimeRemoved !== null) return 'removed';
  return file.datetimeStored !== null ? 'stored' : 'unstored';
}

/** Sums one counter step per file, per project, in the order projects first appear. */
function countersOf(files: StoredFile[], step: (file: StoredFile) => FileCounts): FileChangeEffects['counters'] {
  const byProject = new Map<string, FileCounts>();
  for (const file of files) {
    const delta = byProject.get(file.projectId) ?? { stored: 0, unstored: 0, removed: 0 };
    const change = step(file);
    delta.stored += change.stored;
    delta.unstored += change.unstored;
    delta.removed += change.removed;
    byProject.set(file.projectId, delta);
  }
  return [...byProject].map(([projectId, delta]) => ({ projectId, delta }));
}

function only(state: CountedState, by: number): FileCounts {
  return { stored: 0, unstored: 0, removed: 0, [state]: by };
}

function event(
  file: StoredFile,
  name: NewOutboxEvent['event'],
  at: string,
  previousValues: Record<string, unknown> | null = null,
  initiator: WebhookInitiator | null = null,
): NewOutboxEvent {
  return { projectId: file.projectId, event: name, fileUuid: file.uuid, previousValues, ...(initiator ? { initiator } : {}), createdAt: at };
}

/** New files: `file.uploaded` each, `file.stored` too for those stored at once; each counts in its state. */
export function effectsOfInsert(files: StoredFile[]): FileChangeEffects {
  return {
    events: files.flatMap((file) => [
      event(file, 'file.uploaded', file.datetimeUploaded),
      ...(file.datetimeStored ? [event(file, 'file.stored', file.datetimeStored)] : []),
    ]),
    // A new file counts as stored or unstored by its store time alone.
    counters: countersOf(files, (file) => only(file.datetimeStored !== null ? 'stored' : 'unstored', 1)),
  };
}

/** Files that were unstored and are now stored (as `setStored` returns them). */
export function effectsOfStore(stored: StoredFile[], at: string): FileChangeEffects {
  return {
    events: stored.map((file) => event(file, 'file.stored', at)),
    counters: countersOf(stored, () => ({ stored: 1, unstored: -1, removed: 0 })),
  };
}

/** Files that were live and are now removed (as `setRemoved` returns them: still stored or not). */
export function effectsOfRemove(removed: StoredFile[], at: string): FileChangeEffects {
  return {
    events: removed.map((file) => event(file, 'file.deleted', at)),
    counters: countersOf(removed, (file) => ({ ...only(file.datetimeStored !== null ? 'stored' : 'unstored', -1), removed: 1 })),
  };
}

/** A live file whose metadata or tags changed: `file.info_updated` with what they were; no counter moves. */
export function effectsOfInfoUpdate(file: StoredFile, previous: Partial<Pick<StoredFile, 'metadata' | 'tags'>>, at: string): FileChangeEffects {
  return { events: [event(file, 'file.info_updated', at, previous)], counters: [] };
}

/** A row deleted for good (the sweep, after its expiry): it leaves the count of its state; no event, since its expiry already ended it for every client. */
export function effectsOfDelete(deleted: StoredFile): FileChangeEffects {
  return { events: [], counters: countersOf([deleted], (file) => only(countedState(file), -1)) };
}

/**
 * An add-on wrote its result on a live file: `file.info_updated` with the appdata it had before (as
 * Uploadcare announces appdata changes), and `file.infected` when the result is a virus scan's
 * finding; both name the add-on's request as their initiator. No counter moves.
 */
export function effectsOfAppDataWrite(before: StoredFile, after: StoredFile, at: string, initiator: WebhookInitiator, infected: boolean): FileChangeEffects {
  return {
    events: [event(after, 'file.info_updated', at, { appdata: before.appdata }, initiator), ...(infected ? [event(after, 'file.infected', at, null, initiator)] : [])],
    counters: [],
  };
}
