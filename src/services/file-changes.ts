import type { AddonName, AppDataEntry, ScanStatus } from '../domain/addons.js';
import type { StoredFile } from '../domain/file.js';
import type { WebhookInitiator } from '../domain/webhook.js';
import type { FileInfoPatch } from '../ports/repositories.js';
import type { ShardRepositories, ShardUnitOfWork } from '../ports/shards.js';
import {
  effectsOfAppDataWrite,
  effectsOfDelete,
  effectsOfInfoUpdate,
  effectsOfInsert,
  effectsOfRemove,
  effectsOfStore,
  type FileChangeEffects,
} from './file-change-effects.js';

// Every write to file records, each in one unit of work on the project's shard with the counters and events it implies
// (`file-change-effects.ts`): a failure leaves neither the change nor its events, so a webhook never
// announces a change that did not happen, and no change goes unannounced.

/** Writes new files: all become visible, or none. */
export async function insertFiles(store: ShardUnitOfWork, files: StoredFile[]): Promise<void> {
  if (files.length === 0) return;
  await store.transaction(async (tx) => {
    await tx.files.insertMany(files);
    await record(tx, effectsOfInsert(files));
  });
}

/** Stores the project's live, unstored files among `uuids`; returns those this call changed. */
export async function storeFiles(store: ShardUnitOfWork, projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
  if (uuids.length === 0) return [];
  return store.transaction(async (tx) => {
    const stored = await tx.files.setStored(projectId, uuids, at);
    await record(tx, effectsOfStore(stored, at));
    return stored;
  });
}

/** Marks the project's live files among `uuids` removed; returns those this call changed. */
export async function removeFiles(store: ShardUnitOfWork, projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
  if (uuids.length === 0) return [];
  return store.transaction(async (tx) => {
    const removed = await tx.files.setRemoved(projectId, uuids, at);
    // A removed file is no longer similar to anything, and what was computed from it goes with it.
    await tx.imageAnalysis.deleteForFiles(projectId, removed.map((file) => file.uuid));
    await tx.faceDetections.deleteForFiles(projectId, removed.map((file) => file.uuid));
    await record(tx, effectsOfRemove(removed, at));
    return removed;
  });
}

/**
 * Replaces a live file's metadata or tags; `previous` holds what they were (the event carries it),
 * and the write happens only if the file still holds them. Null when the project has no such live
 * file or it changed since it was read.
 */
export async function updateFileInfo(
  store: ShardUnitOfWork,
  projectId: string,
  uuid: string,
  patch: FileInfoPatch,
  previous: FileInfoPatch,
  at: string,
): Promise<StoredFile | null> {
  return store.transaction(async (tx) => {
    const updated = await tx.files.updateInfo(projectId, uuid, patch, previous);
    if (updated) await record(tx, effectsOfInfoUpdate(updated, previous, at));
    return updated;
  });
}

/**
 * Writes an add-on's result into a live file's appdata and its scan status, with the events it
 * implies; null when the project has no such live file (it was removed meanwhile).
 */
export async function writeAppData(
  store: ShardUnitOfWork,
  file: Pick<StoredFile, 'projectId' | 'uuid'>,
  result: { addon: AddonName; entry: AppDataEntry; scanStatus: ScanStatus | null; infected: boolean },
  initiator: WebhookInitiator,
  at: string,
): Promise<StoredFile | null> {
  return store.transaction(async (tx) => {
    const written = await tx.files.writeAppData(file.projectId, file.uuid, result.addon, result.entry, result.scanStatus);
    if (!written) return null;
    await record(tx, effectsOfAppDataWrite(written.before, written.after, at, initiator, result.infected));
    return written.after;
  });
}

/** Deletes a file's row for good; false when there was none. */
export async function deleteFileRow(store: ShardUnitOfWork, uuid: string): Promise<boolean> {
  return store.transaction(async (tx) => {
    const deleted = await tx.files.deleteRow(uuid);
    if (deleted) await record(tx, effectsOfDelete(deleted));
    return deleted !== null;
  });
}

async function record(tx: ShardRepositories, effects: FileChangeEffects): Promise<void> {
  for (const { projectId, delta } of effects.counters) await tx.fileCounters.apply(projectId, delta);
  if (effects.events.length > 0) await tx.outbox.append(effects.events);
}
