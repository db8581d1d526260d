import { setTimeout as sleep } from 'node:timers/promises';
import { regionBlobRoot } from '../domain/blob-layout.js';
import type { Project } from '../domain/project.js';
import { createAppError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import type { ConfigCopies } from '../ports/config-replica.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { ShardPlacementService } from './shard-placement.service.js';
import type { BlobCopyReport, OriginalsPlace, ProjectBlobCopy } from './project-blob-copy.js';
import type { MovePhase, ProjectMove, ProjectMovesRepository, ProjectRowCopier, ShardAdmin, ShardResolver } from '../ports/shards.js';

/** What a move reports as it goes (the command line prints it). */
export type MoveProgress =
  | { step: 'copying' | 'syncing'; table: string; rows: number }
  | { step: 'regions'; behind: Array<{ region: string; lastSeq: number }>; seq: number }
  | ({ step: 'originals' } & BlobCopyReport)
  | { step: 'phase'; phase: MovePhase | 'paused-writes' | 'verified' | 'waiting' | 'cleaning'; detail?: string };

interface MoveOptions {
  signal?: AbortSignal;
  onProgress?: (progress: MoveProgress) => void;
}

const ACTIVE: readonly MovePhase[] = ['copying', 'paused', 'switched'];

/** A region's copy that reported within this long counts: one silent longer is a region gone or down. */
const ACTIVE_COPY_MS = 10 * 60_000;
const COPY_POLL_MS = 100;
const DEFAULT_COPIES_WAIT_MS = 60_000;

/**
 * Moves a project's files between shards while it stays online. Each phase is recorded in the main
 * database before the next begins, and each can run again, so an interrupted move resumes where it
 * stopped (or rolls back until it switched):
 *
 * 1. copying: the project's rows are copied to the new shard while it keeps writing to the old one.
 * 2. paused: a fence on the old shard refuses the project's writes (503 PROJECT_MOVING with
 *    Retry-After; other projects go on), what changed since the copy is copied, and both copies are
 *    compared table by table (rows and checksums).
 * 3. switched: the main database points the project at the new shard, in the same transaction as
 *    the phase; every process drops its cached shard of the project.
 * 4. done: once every region's configuration copy has applied the switch, and twice the processes'
 *    shard-cache lifetime later (no process still sends the project to the old shard), the old copy
 *    is deleted; its fence stays, refusing all but deletions.
 *
 * A shard in another region moves the project to that region: its originals are copied to the new
 * region's storage while it keeps working (1), what is missing is copied once writes pause, and each
 * one is checked there at its recorded size before the switch (2); the old region's go with the old
 * copy (4). Until the switch, every read is served from the old region.
 */
export class ProjectMoveService {
  constructor(
    private readonly projects: Pick<ProjectsRepository, 'findByPublicKey'>,
    private readonly moves: ProjectMovesRepository,
    private readonly copier: ProjectRowCopier,
    private readonly shards: ShardResolver & Pick<ShardAdmin, 'describe' | 'refresh' | 'ping' | 'anchor'>,
    private readonly changes: { projectChanged(projectId: string): Promise<void> },
    private readonly clock: Clock,
    /** `copiesWaitMs`: how long the clean-up waits for the regions' copies (default a minute). */
    private readonly settings: { shardCacheTtlMs: number; copiesWaitMs?: number },
    private readonly originals: ProjectBlobCopy,
    /** The regions' configuration copies: each must have applied the switch before the old rows go. */
    private readonly copies: ConfigCopies,
  ) {}

  /** The project's last move (under way or ended), or null. */
  async status(publicKey: string): Promise<ProjectMove | null> {
    return this.moves.find((await this.project(publicKey)).id);
  }

  /** Moves the project to `to`, or finishes its interrupted move there. */
  async move(publicKey: string, to: string, options: MoveOptions = {}): Promise<ProjectMove> {
    const project = await this.project(publicKey);
    let move = await this.moves.find(project.id);
    if (move && ACTIVE.includes(move.phase)) {
      if (move.to !== to) {
        throw createAppError('MOVE_REFUSED', 409, `A move of this project to "${move.to}" is under way (${move.phase}): run it again with --to ${move.to} to finish it, or roll it back.`);
      }
    } else {
      if (project.shard === to) throw createAppError('MOVE_REFUSED', 409, `The project is on shard "${to}" already.`);
      await this.shards.refresh();
      if (!this.shards.describe().some((shard) => shard.name === to)) {
        throw createAppError('SHARD_NOT_FOUND', 404, `No shard is named "${to}"; the shards are ${this.shards.names().join(', ')}.`);
      }
      await this.shards.ping(project.shard);
      await this.shards.ping(to);
      const at = this.now();
      move = { projectId: project.id, from: project.shard, to, phase: 'copying', detail: null, startedAt: at, updatedAt: at };
      await this.moves.start(move);
    }
    return this.run(project, move, options);
  }

  /**
   * The shard a move to `region` goes to: the shard of the move under way when it is in that region
   * (so the same command resumes it), else the region's least loaded shard.
   */
  async targetInRegion(publicKey: string, region: string, placement: Pick<ShardPlacementService, 'regionKey' | 'leastLoaded'>): Promise<string> {
    const regionKey = placement.regionKey(region);
    const project = await this.project(publicKey);
    const move = await this.moves.find(project.id);
    if (move && ACTIVE.includes(move.phase) && this.shards.describe().find((d) => d.name === move.to)?.region === regionKey) return move.to;
    if (this.shards.describe().find((d) => d.name === project.shard)?.region === regionKey) {
      throw createAppError('MOVE_REFUSED', 409, `The project is in region "${region}" already (shard "${project.shard}"): name a shard with --to to move it within the region.`);
    }
    return placement.leastLoaded(regionKey);
  }

  /** Undoes a move that has not switched yet: the project stays where it was, its copy goes. */
  async rollback(publicKey: string, options: MoveOptions = {}): Promise<ProjectMove> {
    const project = await this.project(publicKey);
    const move = await this.moves.find(project.id);
    if (!move || !ACTIVE.includes(move.phase)) throw createAppError('MOVE_REFUSED', 409, 'The project has no move under way to roll back.');
    if (move.phase === 'switched') {
      throw createAppError('MOVE_REFUSED', 409, `The move has switched the project to "${move.to}" already: run it again to finish it (or move the project back).`);
    }
    options.onProgress?.({ step: 'phase', phase: 'rolled_back' });
    await this.copier.unfence(project.id, move.from);
    const [from, to] = [this.place(move.from), this.place(move.to)];
    // The copied originals go with the copied rows, which name them.
    if (from.root !== to.root) await this.originals.remove(project.id, to, options.signal);
    await this.copier.remove(project.id, move.to, options.signal === undefined ? {} : { signal: options.signal });
    await this.copier.dropAnchor(project.id, move.to);
    await this.moves.setPhase(project.id, 'rolled_back', null, this.now());
    return { ...move, phase: 'rolled_back', updatedAt: this.now() };
  }

  private async run(project: Project, start: ProjectMove, options: MoveOptions): Promise<ProjectMove> {
    const { signal, onProgress } = options;
    const { projectId, from, to } = start;
    let phase = start.phase;
    // Wall time: what it spaces is other processes' caches, which run on wall time.
    let switchedAt = start.phase === 'switched' ? Date.parse(start.updatedAt) : 0;
    const step = (value: typeof phase) => {
      onProgress?.({ step: 'phase', phase: value });
    };
    const interrupted = () => {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('The move was interrupted.');
    };
    const sync = (kind: 'copying' | 'syncing') =>
      this.copier.sync(projectId, from, to, { ...(signal ? { signal } : {}), onRows: (table, rows) => onProgress?.({ step: kind, table, rows }) });
    const [source, target] = [this.place(from), this.place(to)];
    const crossRegion = source.root !== target.root;
    const copyOriginals = () => this.originals.copy(projectId, source, target, { ...(signal ? { signal } : {}), onPage: (report) => onProgress?.({ step: 'originals', ...report }) });

    if (phase === 'copying') {
      step('copying');
      // The project may have lived on the new shard before: the fence it left there goes first.
      await this.copier.unfence(projectId, to);
      await this.shards.anchor(to, project);
      await sync('copying');
      if (crossRegion) await copyOriginals();
      interrupted();
      await this.moves.setPhase(projectId, 'paused', null, this.now());
      phase = 'paused';
    }
    if (phase === 'paused') {
      step('paused');
      await this.copier.fence(projectId, from, 'paused');
      onProgress?.({ step: 'phase', phase: 'paused-writes' });
      interrupted();
      await sync('syncing');
      const differences = (await this.copier.compare(projectId, from, to)).filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
      if (differences.length > 0) {
        // Writes resume on the old shard; the next run copies again from the start.
        await this.copier.unfence(projectId, from);
        const detail = differences.map((t) => `${t.table}: ${t.sourceRows} rows here, ${t.targetRows} there`).join('; ');
        await this.moves.setPhase(projectId, 'copying', `verification failed: ${detail}`, this.now());
        throw createAppError('MOVE_VERIFY_FAILED', 409, `The copies differ after the sync (${detail}); nothing was switched. Run the move again.`);
      }
      if (crossRegion) {
        try {
          await copyOriginals();
          await this.originals.verify(projectId, source, target, signal);
        } catch (error) {
          // Writes resume in the old region, which still serves every read.
          await this.copier.unfence(projectId, from);
          await this.moves.setPhase(projectId, 'copying', `originals: ${(error as Error).message}`, this.now());
          throw error;
        }
      }
      onProgress?.({ step: 'phase', phase: 'verified' });
      await this.moves.switchShard(projectId, to, this.now());
      switchedAt = Date.now();
      this.shards.forget(projectId);
      await this.changes.projectChanged(projectId);
      phase = 'switched';
      step('switched');
    }
    if (phase === 'switched') {
      // A region reads the project's shard from its own copy of the configuration: the switch is
      // seen there once that copy has applied it.
      const seenEverywhereAt = Math.max(switchedAt, await this.switchInEveryCopy(projectId, signal, onProgress));
      // A process that read the old shard just before the switch trusts it for one cache lifetime;
      // its writes meet the fence meanwhile, and it must not read a copy half deleted.
      const wait = Math.min(seenEverywhereAt + 2 * this.settings.shardCacheTtlMs - Date.now(), 2 * this.settings.shardCacheTtlMs);
      if (wait > 0) {
        onProgress?.({ step: 'phase', phase: 'waiting', detail: `${Math.ceil(wait / 1000)} s for every process to see the switch` });
        await sleep(wait, undefined, signal ? { signal } : undefined);
      }
      onProgress?.({ step: 'phase', phase: 'cleaning' });
      await this.copier.fence(projectId, from, 'departed');
      // Before the rows that name them; a cleanup interrupted here deletes them again, harmlessly.
      if (crossRegion) await this.originals.remove(projectId, source, signal);
      await this.copier.remove(projectId, from, signal ? { signal } : {});
      await this.copier.dropAnchor(projectId, from);
      await this.moves.setPhase(projectId, 'done', null, this.now());
      step('done');
    }
    const ended = await this.moves.find(projectId);
    if (!ended) throw new Error('the move record disappeared');
    return ended;
  }

  /**
   * Waits until every region's copy of the configuration that reported lately has applied the
   * project's switch (its newest logged change); returns when (wall time; 0 at once when none lags).
   * A copy still behind after `copiesWaitMs` stops the move before its clean-up: the project works
   * on its new shard, and the same command finishes the move later.
   */
  private async switchInEveryCopy(projectId: string, signal: AbortSignal | undefined, onProgress: MoveOptions['onProgress']): Promise<number> {
    const seq = await this.copies.lastChangeOf(projectId);
    if (seq === null) return 0;
    const started = Date.now();
    let waited = false;
    for (;;) {
      const behind = await this.copies.behind(seq, new Date(Date.now() - ACTIVE_COPY_MS).toISOString());
      if (behind.length === 0) return waited ? Date.now() : 0;
      if (!waited) onProgress?.({ step: 'regions', behind, seq });
      waited = true;
      if (Date.now() - started > (this.settings.copiesWaitMs ?? DEFAULT_COPIES_WAIT_MS)) {
        const lagging = behind.map((copy) => `${copy.region} (at change ${copy.lastSeq})`).join(', ');
        throw createAppError(
          'MOVE_REGIONS_BEHIND',
          409,
          `The project is on its new shard, but the configuration copy of ${lagging} has not applied change ${seq}, its switch, after ${Math.round((this.settings.copiesWaitMs ?? DEFAULT_COPIES_WAIT_MS) / 1000)} s: the old copy is kept until it has. Run the move again to finish it.`,
        );
      }
      await sleep(COPY_POLL_MS, undefined, signal ? { signal } : undefined);
    }
  }

  /** A shard with the root of its region's keys. */
  private place(shard: string): OriginalsPlace {
    const description = this.shards.describe().find((d) => d.name === shard);
    if (!description) throw createAppError('SHARD_NOT_FOUND', 404, `No shard is named "${shard}"; the shards are ${this.shards.names().join(', ')}.`);
    return { shard, root: regionBlobRoot(description.region) };
  }

  private async project(publicKey: string): Promise<Project> {
    const project = await this.projects.findByPublicKey(publicKey);
    if (!project) throw createAppError('PROJECT_NOT_FOUND', 404, `No project has public key ${publicKey}.`);
    return project;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
