import { describe, expect, it } from 'vitest';
import type { StoredFile } from '../../src/domain/file.js';
import { storedFile } from '../helpers/stored-file.js';
import {
  effectsOfDelete,
  effectsOfInfoUpdate,
  effectsOfInsert,
  effectsOfRemove,
  effectsOfStore,
} from '../../src/services/file-change-effects.js';

const T0 = '2024-05-01T10:00:00.000Z';
const T1 = '2024-05-02T10:00:00.000Z';

function file(uuid: string, overrides: Partial<StoredFile> = {}): StoredFile {
  return storedFile({ uuid, projectId: 'p1', datetimeUploaded: T0, ...overrides });
}

const event = (fileUuid: string, name: string, createdAt: string, previousValues: Record<string, unknown> | null = null, projectId = 'p1') => ({
  projectId,
  event: name,
  fileUuid,
  previousValues,
  createdAt,
});

describe('file change effects', () => {
  it('an upload records file.uploaded, and file.stored when stored at once, each at its own time, file by file', () => {
    const effects = effectsOfInsert([file('a'), file('b', { datetimeStored: T1 })]);
    expect(effects.events).toEqual([event('a', 'file.uploaded', T0), event('b', 'file.uploaded', T0), event('b', 'file.stored', T1)]);
  });

  it('an upload counts each file as stored or unstored, summed per project', () => {
    const effects = effectsOfInsert([file('a'), file('b', { datetimeStored: T0 }), file('c', { projectId: 'p2' }), file('d', { datetimeStored: T0 })]);
    expect(effects.counters).toEqual([
      { projectId: 'p1', delta: { stored: 2, unstored: 1, removed: 0 } },
      { projectId: 'p2', delta: { stored: 0, unstored: 1, removed: 0 } },
    ]);
  });

  it('nothing changed: no event, no counter', () => {
    for (const effects of [effectsOfInsert([]), effectsOfStore([], T1), effectsOfRemove([], T1)]) {
      expect(effects).toEqual({ events: [], counters: [] });
    }
  });

  it('storing moves files from unstored to stored and records file.stored at the change time', () => {
    const stored = [file('a', { datetimeStored: T1 }), file('b', { datetimeStored: T1 })];
    const effects = effectsOfStore(stored, T1);
    expect(effects.events).toEqual([event('a', 'file.stored', T1), event('b', 'file.stored', T1)]);
    expect(effects.counters).toEqual([{ projectId: 'p1', delta: { stored: 2, unstored: -2, removed: 0 } }]);
  });

  it('removing moves each file from the state it had to removed and records file.deleted', () => {
    const removed = [file('a', { datetimeStored: T0, datetimeRemoved: T1 }), file('b', { datetimeRemoved: T1 }), file('c', { datetimeRemoved: T1 })];
    const effects = effectsOfRemove(removed, T1);
    expect(effects.events).toEqual([event('a', 'file.deleted', T1), event('b', 'file.deleted', T1), event('c', 'file.deleted', T1)]);
    expect(effects.counters).toEqual([{ projectId: 'p1', delta: { stored: -1, unstored: -2, removed: 3 } }]);
  });

  it('an info update records file.info_updated with exactly the previous values, and moves no counter', () => {
    const tags = effectsOfInfoUpdate(file('a', { tags: ['new'] }), { tags: ['old'] }, T1);
    expect(tags).toEqual({ events: [event('a', 'file.info_updated', T1, { tags: ['old'] })], counters: [] });
    const metadata = effectsOfInfoUpdate(file('a'), { metadata: { k: 'v' } }, T1);
    expect(metadata.events[0]?.previousValues).toEqual({ metadata: { k: 'v' } });
  });

  it('deleting a row takes it out of the count of its state and records no event', () => {
    expect(effectsOfDelete(file('a'))).toEqual({ events: [], counters: [{ projectId: 'p1', delta: { stored: 0, unstored: -1, removed: 0 } }] });
    expect(effectsOfDelete(file('a', { datetimeStored: T0 })).counters[0]?.delta).toEqual({ stored: -1, unstored: 0, removed: 0 });
    expect(effectsOfDelete(file('a', { datetimeStored: T0, datetimeRemoved: T1 })).counters[0]?.delta).toEqual({ stored: 0, unstored: 0, removed: -1 });
  });
});
