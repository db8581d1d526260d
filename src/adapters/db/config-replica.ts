import type { Kysely } from 'kysely';
import type { ConfigChangeLog, ConfigCopies, ConfigReplicator, ConfigSyncResult } from '../../ports/config-replica.js';
import type { Database } from './schema.js';

/** The one row of `config_replica_state` a copy keeps. */
const STATE = 'config';

/** How long a hole in the change numbers is waited for before it counts as a rolled-back change. */
const GAP_WAIT_MS = 5_000;

/** Project ids read from the main database per statement. */
const CHUNK = 200;

interface ReplicatorOptions {
  /** Changes taken from the front of the backlog per pass: what bounds a bulk change's cost per pass. */
  batch: number;
  /** The newest changes, past that batch, also applied each pass: an ordinary change does not wait behind a bulk one. */
  tail: number;
  /** How long the main database keeps its change log (TROVE_CONFIG_LOG_RETENTION). */
  logRetentionMs: number;
  /** The region whose copy this is: how far it got is reported to the main database under this name. */
  region: string;
}

/** A copy reports how far it got when its cursor moves, and at least this often (moves see it active). */
const REPORT_EVERY_MS = 10_000;

/**
 * Copies the main database's configuration (projects, keys, storages, the shard map) into a region's
 * own database, from the change log. Applying a project reads its current rows, so applying it again,
 * or out of order, converges on the same copy; the cursor only moves over a contiguous run of changes.
 */
export class KyselyConfigReplicator implements ConfigReplicator {
  private ready: Promise<void> | null = null;
  /** Changes past the cursor this process has applied already (the tail's, or ones read again behind a hole). */
  private appliedPastCursor = new Set<number>();
  private reported = { seq: -1, at: 0 };

  constructor(
    private readonly main: Kysely<Database>,
    private readonly replica: Kysely<Database>,
    private readonly options: ReplicatorOptions,
  ) {}

  async syncOnce(now: Date): Promise<ConfigSyncResult> {
    await this.ensureState(now);
    let state = await this.replica.selectFrom('config_replica_state').selectAll().where('name', '=', STATE).executeTakeFirstOrThrow();
    // A new copy holds nothing (and configuration older than the log was never logged); a copy that
    // made no pass for half the log's retention may have missed changes the log no longer has.
    const fresh = state.caught_up_at === null && Number(state.last_seq) === 0;
    if (fresh || now.getTime() - Date.parse(state.updated_at) > this.options.logRetentionMs / 2) {
      await this.copyEverything(now, Number(state.last_seq));
      state = await this.replica.selectFrom('config_replica_state').selectAll().where('name', '=', STATE).executeTakeFirstOrThrow();
    }
    const cursor = Number(state.last_seq);
    const backlog = await this.main.selectFrom('config_changes').selectAll().where('seq', '>', cursor).orderBy('seq').limit(this.options.batch).execute();
    const frontier = backlog.length > 0 ? Number(backlog.at(-1)!.seq) : cursor;
    const tail = (await this.main.selectFrom('config_changes').selectAll().where('seq', '>', frontier).orderBy('seq', 'desc').limit(this.options.tail).execute()).reverse();
    // Fewer than asked: the tail holds every change past the backlog, so nothing is left unread.
    const everythingRead = tail.length < this.options.tail;
    const changes = [...backlog, ...tail];
    const projects = [...new Set(changes.flatMap((change) => (change.project_id === null ? [] : [change.project_id])))];
    for (let i = 0; i < projects.length; i += CHUNK) await this.copyProjects(projects.slice(i, i + CHUNK));
    if (changes.some((change) => change.project_id === null)) await this.copyShardMap();

    // The cursor passes only changes read in an unbroken run. A hole in the numbers is a transaction
    // that took its number but has not committed (PostgreSQL hands numbers out before commit): it is
    // waited for, unless the change after it is older than GAP_WAIT_MS (the hole was rolled back).
    let advanced = cursor;
    for (const change of everythingRead ? changes : backlog) {
      const seq = Number(change.seq);
      if (seq !== advanced + 1 && now.getTime() - Date.parse(change.created_at) < GAP_WAIT_MS) break;
      advanced = seq;
    }
    const unread = everythingRead ? undefined : await this.main.selectFrom('config_changes').select('created_at').where('seq', '>', frontier).orderBy('seq').limit(1).executeTakeFirst();
    const at = now.toISOString();
    const caughtUp = unread === undefined;
    await this.replica
      .updateTable('config_replica_state')
      .set({ last_seq: advanced, updated_at: at, ...(caughtUp ? { caught_up_at: at } : {}) })
      .where('name', '=', STATE)
      .execute();
    // What was applied stands even when the report fails (the main database just went away): the
    // next pass reports again.
    await this.report(advanced, now).catch(() => undefined);
    const news = changes.filter((change) => !this.appliedPastCursor.has(Number(change.seq)));
    for (const change of news) this.appliedPastCursor.add(Number(change.seq));
    for (const seq of this.appliedPastCursor) if (seq <= advanced) this.appliedPastCursor.delete(seq);
    return {
      changes: news.map((change) => ({ projectId: change.project_id, createdAt: change.created_at })),
      projects,
      pendingSince: unread?.created_at ?? null,
      caughtUpAt: caughtUp ? at : state.caught_up_at,
    };
  }

  /** Tells the main database how far this copy got (moves wait for every active copy to pass their switch). */
  private async report(seq: number, now: Date): Promise<void> {
    if (seq === this.reported.seq && now.getTime() - this.reported.at < REPORT_EVERY_MS) return;
    const at = now.toISOString();
    await this.main
      .insertInto('config_copies')
      .values({ region: this.options.region, last_seq: seq, updated_at: at })
      .onConflict((oc) => oc.column('region').doUpdateSet({ last_seq: seq, updated_at: at }))
      .execute();
    this.reported = { seq, at: now.getTime() };
  }

  /** Marks the database a copy first: from then on its triggers log nothing of what is copied into it. */
  private ensureState(now: Date): Promise<void> {
    this.ready ??= this.replica
      .insertInto('config_replica_state')
      .values({ name: STATE, last_seq: 0, caught_up_at: null, updated_at: now.toISOString() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute()
      .then(() => undefined, (error: unknown) => {
        this.ready = null;
        throw error;
      });
    return this.ready;
  }

  /**
   * Copies the whole configuration, then puts the cursor on the last change older than the wait for
   * holes: every change after it is read again from the log, and applying one again is harmless.
   */
  private async copyEverything(now: Date, cursor: number): Promise<void> {
    const settled = new Date(now.getTime() - GAP_WAIT_MS).toISOString();
    const horizon = await this.main.selectFrom('config_changes').select((eb) => eb.fn.max('seq').as('seq')).where('created_at', '<', settled).executeTakeFirst();
    // The main database's projects, then the copy's (one deleted in the main database goes).
    for (const source of [this.main, this.replica]) {
      let after = '';
      for (;;) {
        const ids = (await source.selectFrom('projects').select('id').where('id', '>', after).orderBy('id').limit(CHUNK).execute()).map((row) => row.id);
        if (ids.length === 0) break;
        await this.copyProjects(ids);
        after = ids.at(-1)!;
      }
    }
    await this.copyShardMap();
    await this.replica
      .updateTable('config_replica_state')
      .set({ last_seq: Math.max(cursor, Number(horizon?.seq ?? 0)), updated_at: now.toISOString() })
      .where('name', '=', STATE)
      .execute();
  }

  /** Replaces the copy's rows of these projects with the main database's (none left for a project deleted there). */
  private async copyProjects(ids: string[]): Promise<void> {
    const [projects, keys, storages] = await Promise.all([
      this.main.selectFrom('projects').selectAll().where('id', 'in', ids).execute(),
      this.main.selectFrom('secret_keys').selectAll().where('project_id', 'in', ids).execute(),
      this.main.selectFrom('project_storages').selectAll().where('project_id', 'in', ids).execute(),
    ]);
    await this.replica.transaction().execute(async (trx) => {
      await trx.deleteFrom('project_storages').where('project_id', 'in', ids).execute();
      await trx.deleteFrom('secret_keys').where('project_id', 'in', ids).execute();
      await trx.deleteFrom('projects').where('id', 'in', ids).execute();
      if (projects.length > 0) await trx.insertInto('projects').values(projects).execute();
      if (keys.length > 0) await trx.insertInto('secret_keys').values(keys).execute();
      if (storages.length > 0) await trx.insertInto('project_storages').values(storages).execute();
    });
  }

  private async copyShardMap(): Promise<void> {
    const shards = await this.main.selectFrom('shards').selectAll().execute();
    await this.replica.transaction().execute(async (trx) => {
      await trx.deleteFrom('shards').execute();
      if (shards.length > 0) await trx.insertInto('shards').values(shards).execute();
    });
  }
}

/** The main database's change log: kept for a while, so that a region's copy can catch up after an absence. */
export class KyselyConfigChangeLog implements ConfigChangeLog {
  constructor(private readonly main: Kysely<Database>) {}

  async pruneBefore(before: string): Promise<number> {
    const result = await this.main.deleteFrom('config_changes').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** What the main database knows of the regions' copies: how far each applied the change log. */
export class KyselyConfigCopies implements ConfigCopies {
  constructor(private readonly main: Kysely<Database>) {}

  async lastChangeOf(projectId: string): Promise<number | null> {
    const row = await this.main.selectFrom('config_changes').select((eb) => eb.fn.max('seq').as('seq')).where('project_id', '=', projectId).executeTakeFirst();
    return row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
  }

  async behind(seq: number, activeSince: string): Promise<Array<{ region: string; lastSeq: number }>> {
    const rows = await this.main.selectFrom('config_copies').selectAll().where('last_seq', '<', seq).where('updated_at', '>=', activeSince).orderBy('region').execute();
    return rows.map((row) => ({ region: row.region, lastSeq: Number(row.last_seq) }));
  }
}
