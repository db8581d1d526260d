import type { Kysely, Selectable } from 'kysely';
import { CONVERSION_STATUSES, type ConversionStatus, type VideoConversion, type VideoPlan } from '../../../domain/video-conversion.js';
import type { VideoConversionListQuery, VideoConversionsRepository } from '../../../ports/repositories.js';
import { readJson } from '../json-columns.js';
import type { Database, VideoConversionsTable } from '../schema.js';

const EMPTY_PLAN: VideoPlan = { format: 'mp4', quality: 'normal', size: null, cut: null, thumbnails: 1 };

function toConversion(row: Selectable<VideoConversionsTable>): VideoConversion {
  return {
    token: row.token,
    projectId: row.project_id,
    requestKey: row.request_key,
    sourceUuid: row.source_uuid,
    plan: readJson<VideoPlan>(row.plan, EMPTY_PLAN),
    store: Number(row.store) === 1,
    resultUuid: row.result_uuid,
    thumbnailsGroupId: row.thumbnails_group_id,
    status: CONVERSION_STATUSES.includes(row.status as ConversionStatus) ? (row.status as ConversionStatus) : 'failed',
    error: row.error,
    progress: Number(row.progress),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class KyselyVideoConversionsRepository implements VideoConversionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(conversion: VideoConversion): Promise<boolean> {
    const result = await this.db
      .insertInto('video_conversions')
      .values({
        token: conversion.token,
        project_id: conversion.projectId,
        request_key: conversion.requestKey,
        source_uuid: conversion.sourceUuid,
        plan: JSON.stringify(conversion.plan),
        store: conversion.store ? 1 : 0,
        result_uuid: conversion.resultUuid,
        thumbnails_group_id: conversion.thumbnailsGroupId,
        status: conversion.status,
        error: conversion.error,
        progress: conversion.progress,
        created_at: conversion.createdAt,
        updated_at: conversion.updatedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async findByRequest(projectId: string, requestKey: string): Promise<VideoConversion | null> {
    const row = await this.db
      .selectFrom('video_conversions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('request_key', '=', requestKey)
      .executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async find(projectId: string, token: string): Promise<VideoConversion | null> {
    const row = await this.db.selectFrom('video_conversions').selectAll().where('token', '=', token).where('project_id', '=', projectId).executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async findByToken(token: string): Promise<VideoConversion | null> {
    const row = await this.db.selectFrom('video_conversions').selectAll().where('token', '=', token).executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async list(projectId: string, query: VideoConversionListQuery): Promise<VideoConversion[]> {
    let select = this.ofProject(projectId, query.sourceUuid).selectAll();
    if (query.before) {
      const { datetime, token } = query.before;
      select =
        token === null
          ? select.where('created_at', '<=', datetime)
          : select
              // The redundant bound lets the index start at the cursor instead of filtering every row before it.
              .where('created_at', '<=', datetime)
              .where((eb) => eb.or([eb('created_at', '<', datetime), eb.and([eb('created_at', '=', datetime), eb('token', '<', token)])]));
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('token', 'desc').limit(query.limit).execute();
    return rows.map(toConversion);
  }

  async count(projectId: string, sourceUuid: string | null): Promise<number> {
    const row = await this.ofProject(projectId, sourceUuid)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async setProgress(token: string, progress: number, at: string): Promise<void> {
    await this.db.updateTable('video_conversions').set({ progress, updated_at: at }).where('token', '=', token).where('status', '=', 'processing').execute();
  }

  async moveStatus(token: string, from: readonly ConversionStatus[], status: ConversionStatus, error: string | null, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('video_conversions')
      .set({ status, error, updated_at: at, ...(status === 'finished' ? { progress: 100 } : status === 'pending' ? { progress: 0 } : {}) })
      .where('token', '=', token)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The project's rows, narrowed to one source when given. */
  private ofProject(projectId: string, sourceUuid: string | null) {
    const select = this.db.selectFrom('video_conversions').where('project_id', '=', projectId);
    return sourceUuid === null ? select : select.where('source_uuid', '=', sourceUuid);
  }
}
