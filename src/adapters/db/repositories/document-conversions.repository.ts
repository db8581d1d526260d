import type { Kysely, Selectable } from 'kysely';
import { DOCUMENT_TARGET_FORMATS, type DocumentConversion, type DocumentTargetFormat } from '../../../domain/document-conversion.js';
import { CONVERSION_STATUSES, type ConversionStatus } from '../../../domain/video-conversion.js';
import type { DocumentConversionsRepository } from '../../../ports/repositories.js';
import type { Database, DocumentConversionsTable } from '../schema.js';

function toConversion(row: Selectable<DocumentConversionsTable>): DocumentConversion {
  return {
    token: row.token,
    projectId: row.project_id,
    requestKey: row.request_key,
    sourceUuid: row.source_uuid,
    plan: {
      format: DOCUMENT_TARGET_FORMATS.includes(row.format as DocumentTargetFormat) ? (row.format as DocumentTargetFormat) : 'pdf',
      page: row.page === null ? null : Number(row.page),
    },
    store: Number(row.store) === 1,
    saveInGroup: Number(row.save_in_group) === 1,
    resultUuid: row.result_uuid,
    groupId: row.group_id,
    status: CONVERSION_STATUSES.includes(row.status as ConversionStatus) ? (row.status as ConversionStatus) : 'failed',
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class KyselyDocumentConversionsRepository implements DocumentConversionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(conversion: DocumentConversion): Promise<boolean> {
    const result = await this.db
      .insertInto('document_conversions')
      .values({
        token: conversion.token,
        project_id: conversion.projectId,
        request_key: conversion.requestKey,
        source_uuid: conversion.sourceUuid,
        format: conversion.plan.format,
        page: conversion.plan.page,
        store: conversion.store ? 1 : 0,
        save_in_group: conversion.saveInGroup ? 1 : 0,
        result_uuid: conversion.resultUuid,
        group_id: conversion.groupId,
        status: conversion.status,
        error: conversion.error,
        created_at: conversion.createdAt,
        updated_at: conversion.updatedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async findByRequest(projectId: string, requestKey: string): Promise<DocumentConversion | null> {
    const row = await this.db
      .selectFrom('document_conversions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('request_key', '=', requestKey)
      .executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async find(projectId: string, token: string): Promise<DocumentConversion | null> {
    const row = await this.db.selectFrom('document_conversions').selectAll().where('token', '=', token).where('project_id', '=', projectId).executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async findByToken(token: string): Promise<DocumentConversion | null> {
    const row = await this.db.selectFrom('document_conversions').selectAll().where('token', '=', token).executeTakeFirst();
    return row ? toConversion(row) : null;
  }

  async finishedGroups(projectId: string, sourceUuid: string): Promise<DocumentConversion[]> {
    const rows = await this.db
      .selectFrom('document_conversions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('source_uuid', '=', sourceUuid)
      .where('status', '=', 'finished')
      .where('group_id', 'is not', null)
      .orderBy('created_at', 'desc')
      .orderBy('token', 'desc')
      .limit(100)
      .execute();
    return rows.map(toConversion);
  }

  async moveStatus(token: string, from: readonly ConversionStatus[], status: ConversionStatus, error: string | null, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('document_conversions')
      .set({ status, error, updated_at: at })
      .where('token', '=', token)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setGroup(token: string, groupId: string, at: string): Promise<void> {
    await this.db.updateTable('document_conversions').set({ group_id: groupId, updated_at: at }).where('token', '=', token).execute();
  }
}
