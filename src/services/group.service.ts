import { randomUUID } from 'node:crypto';
import { isExpired, type StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import { groupId, isGroupId, parseGroupEntry, type GroupEntry } from '../domain/group.js';
import { createAppError } from '../errors.js';
import type { GroupRecord } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import type { Clock } from '../lib/clock.js';
import type { UploadAuthService } from './upload-auth.service.js';

export interface GroupView {
  group: GroupRecord;
  /** In group order; null where a member file has since been removed. */
  members: Array<{ file: StoredFile | null; effects: string }>;
}

/** A page of `GET /groups/` (REST API). */
interface GroupListRequest {
  order: 'asc' | 'desc';
  /** Keyset position: inclusive when only a time is given, after the group when its id is given too. */
  from: { datetime: string; id: string | null } | null;
  limit: number;
}

interface GroupListPage {
  groups: GroupRecord[];
  /** All the project's groups. */
  total: number;
  /** Cursor of the next page; null on the last one. */
  next: { datetime: string; id: string } | null;
}

/** Immutable groups of files of one project (Uploadcare `/group/`, and the REST API's `/groups/`). */
export class GroupService {
  private removalListeners: Array<(groupId: string) => Promise<void>> = [];

  constructor(
    private readonly auth: UploadAuthService,
    private readonly shards: ShardResolver,
    private readonly clock: Clock,
    private readonly settings: { maxGroupFiles: number },
  ) {}

  async create(
    credentials: { publicKey: string | undefined; signature: string | undefined; expire: string | undefined },
    rawEntries: string[],
  ): Promise<GroupView> {
    const project = await this.auth.authenticate(credentials);
    if (rawEntries.length === 0) throw createAppError('FilesRequiredError', 400, 'Send the files of the group as files[]=<uuid>.');
    if (rawEntries.length > this.settings.maxGroupFiles) {
      throw createAppError('FilesNumberLimitExceededError', 400, `A group holds at most ${this.settings.maxGroupFiles} files.`);
    }
    const entries: GroupEntry[] = rawEntries.map((raw, index) => {
      const entry = parseGroupEntry(raw);
      if (!entry) {
        throw createAppError('GroupFilesInvalidError', 400, `files[${index}] "${raw.slice(0, 100)}" is not a file uuid or CDN URL.`);
      }
      return entry;
    });
    const uuids = [...new Set(entries.map((e) => e.uuid))];
    const now = this.clock.now();
    const shard = await this.shards.forProject(project.id);
    const found = (await shard.files.findManyForProject(project.id, uuids)).filter((f) => !isExpired(f, now));
    const byUuid = new Map(found.map((f) => [f.uuid, f]));
    const missing = uuids.filter((u) => !byUuid.has(u));
    if (missing.length > 0) {
      throw createAppError(
        'GroupFilesNotFoundError',
        400,
        `These files do not exist in this project: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}.`,
      );
    }
    const group: GroupRecord = {
      id: groupId(randomUUID(), entries.length),
      projectId: project.id,
      filesCount: entries.length,
      datetimeCreated: this.clock.now().toISOString(),
      datetimeStored: null,
    };
    await shard.groups.create(
      group,
      entries.map((e, position) => ({ position, fileUuid: e.uuid, effects: e.effects })),
    );
    return { group, members: entries.map((e) => ({ file: byUuid.get(e.uuid) ?? null, effects: e.effects })) };
  }

  async info(publicKey: string | undefined, id: string | undefined): Promise<GroupView> {
    const project = await this.auth.resolveProject(publicKey);
    if (!id) throw createAppError('GroupIdRequiredError', 400, '`group_id` is required.');
    if (!isGroupId(id)) throw createAppError('GroupNotFoundError', 404, `Group "${id.slice(0, 80)}" not found.`);
    const shard = await this.shards.forProject(project.id);
    const found = await shard.groups.findForProject(project.id, id);
    if (!found) throw createAppError('GroupNotFoundError', 404, `Group "${id}" not found.`);
    const now = this.clock.now();
    const files = (await shard.files.findManyForProject(project.id, [...new Set(found.members.map((m) => m.fileUuid))])).filter(
      (f) => !isExpired(f, now),
    );
    const byUuid = new Map(files.map((f) => [f.uuid, f]));
    return {
      group: found.group,
      members: found.members.map((m) => ({ file: byUuid.get(m.fileUuid) ?? null, effects: m.effects })),
    };
  }

  async list(project: Project, request: GroupListRequest): Promise<GroupListPage> {
    const shard = await this.shards.forProject(project.id);
    const [rows, total] = await Promise.all([
      shard.groups.list(project.id, { order: request.order, after: request.from, limit: request.limit + 1 }),
      shard.groups.count(project.id),
    ]);
    const groups = rows.slice(0, request.limit);
    const last = groups.at(-1);
    return { groups, total, next: rows.length > request.limit && last ? { datetime: last.datetimeCreated, id: last.id } : null };
  }

  /** A group of the project with its members, for the REST API (which answers an unknown id with 404 "Not found."). */
  async find(project: Project, id: string): Promise<GroupView> {
    const shard = await this.shards.forProject(project.id);
    const found = await shard.groups.findForProject(project.id, id);
    if (!found) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const files = await shard.files.findManyForProject(project.id, found.members.map((m) => m.fileUuid));
    const byUuid = new Map(files.map((f) => [f.uuid, f]));
    return { group: found.group, members: found.members.map((m) => ({ file: byUuid.get(m.fileUuid) ?? null, effects: m.effects })) };
  }

  /** Deletes a group of the project; its files stay. */
  async remove(project: Project, id: string): Promise<void> {
    if (!(await (await this.shards.forProject(project.id)).groups.delete(project.id, id))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    for (const listener of this.removalListeners) await listener(id);
  }

  /** Work that follows a group's deletion (the purge of its URLs from the caches in front of Trove). */
  onRemoved(listener: (groupId: string) => Promise<void>): void {
    this.removalListeners = [...this.removalListeners, listener];
  }
}
