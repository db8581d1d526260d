import { randomInt, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  documentKindOf,
  documentPageUuid,
  documentRequestKey,
  DocumentPathError,
  isImageTarget,
  parseDocumentConversionPath,
  type DocumentConversion,
  type DocumentKind,
} from '../domain/document-conversion.js';
import { isExpired, isUuid, type StoredFile } from '../domain/file.js';
import { groupId } from '../domain/group.js';
import type { Project } from '../domain/project.js';
import type { ConversionStatus } from '../domain/video-conversion.js';
import { AppError, createAppError } from '../errors.js';
import { DOCUMENT_CONVERT_JOB, DOCUMENT_CONVERT_RETRY, type DocumentConvertPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../lib/clock.js';
import { DocumentError, type DocumentRenderer, type DocumentRenderLimits } from '../ports/document-renderer.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { OfficeConverter } from '../ports/office-converter.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { ProjectShard, ShardResolver } from '../ports/shards.js';
import { shardForJob } from './shard-lookup.js';
import type { FileIngestService } from './file-ingest.service.js';
import { readWholeBlob } from './transform/source-reader.js';

/** One accepted path of `POST /convert/document/`. */
interface DocumentConversionResult {
  original_source: string;
  token: number;
  uuid: string;
}

interface DocumentConversionAnswer {
  problems: Record<string, string>;
  result: DocumentConversionResult[];
}

interface DocumentStatusAnswer {
  status: ConversionStatus;
  error: string | null;
  result: { uuid: string } | null;
}

/** `GET /convert/document/<uuid>/`. */
interface DocumentInfoAnswer {
  error: string | null;
  format: { name: string; conversion_formats: { name: string }[] };
  converted_groups: Record<string, string>;
}

interface DocumentSlots {
  run<T>(projectId: string, priority: 'background', task: () => Promise<T>): Promise<T>;
}

interface DocumentLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

interface DocumentConversionSettings {
  limits: DocumentRenderLimits;
  /** Largest source Trove converts. */
  maxSourceBytes: number;
  /** Most paths one request may carry. */
  maxPaths: number;
  /** Density of pages drawn as images. */
  dpi: number;
  /** One conversion's whole budget (LibreOffice, every page, storing); past it the job fails. */
  budgetMs: number;
}

const DONE: readonly ConversionStatus[] = ['finished', 'failed', 'cancelled'];
/** Job tokens are JSON numbers: below 2^48 they are exact everywhere. */
const MAX_TOKEN = 2 ** 48 - 1;

/**
 * Uploadcare's document conversions: a request is checked against the source's record and recorded
 * with its token and result uuid; the `document.convert` job (the `document` lane, projects in turn)
 * turns an Office file into PDF through LibreOffice when needed, draws the pages asked for with
 * pdfium, and stores the results as ordinary files of the project (and a group of pages when asked).
 */
export class DocumentConversionService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly projects: Pick<ProjectsRepository, 'findById'>,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
    private readonly renderer: DocumentRenderer,
    private readonly office: OfficeConverter,
    private readonly ingest: FileIngestService,
    private readonly slots: DocumentSlots,
    private readonly clock: Clock,
    private readonly settings: DocumentConversionSettings,
    private readonly logger: DocumentLogger,
  ) {}

  /** `POST /convert/document/`. */
  async convert(project: Project, body: { paths?: unknown; store?: unknown; save_in_group?: unknown }): Promise<DocumentConversionAnswer> {
    const paths = body.paths;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p): p is string => typeof p === 'string')) {
      throw createAppError('PARAMETER_INVALID', 400, '`paths` must be a list of paths such as "<uuid>/document/-/format/png/-/page/1/".');
    }
    if (paths.length > this.settings.maxPaths) throw createAppError('PARAMETER_INVALID', 400, `\`paths\` holds at most ${this.settings.maxPaths} paths.`);
    const store = flagOf(body.store, project.autoStore, '`store`');
    const saveInGroup = flagOf(body.save_in_group, false, '`save_in_group`');
    const answer: DocumentConversionAnswer = { problems: {}, result: [] };
    for (const path of paths) {
      try {
        const conversion = await this.accept(project, path, store, saveInGroup);
        answer.result.push({ original_source: path, token: Number(conversion.token), uuid: conversion.resultUuid });
      } catch (error) {
        if (!(error instanceof DocumentPathError)) throw error;
        answer.problems[path] = error.message;
      }
    }
    return answer;
  }

  /** `GET /convert/document/status/<token>/`: only this project's conversions. */
  async status(project: Project, token: string): Promise<DocumentStatusAnswer> {
    const conversion = /^[1-9]\d{0,15}$/.test(token) ? await (await this.shard(project.id)).documentConversions.find(project.id, token) : null;
    if (!conversion) throw createAppError('NOT_FOUND', 404, `No document conversion of this project has the token ${token.slice(0, 40)}.`);
    return { status: conversion.status, error: conversion.error, result: { uuid: conversion.resultUuid } };
  }

  /** `GET /convert/document/<uuid>/`: the file's format, what it converts to here, and the groups of pages made from it. */
  async info(project: Project, uuid: string): Promise<DocumentInfoAnswer> {
    const file = isUuid(uuid.toLowerCase()) ? await this.liveFile(project, uuid.toLowerCase()) : null;
    if (!file) throw createAppError('NOT_FOUND', 404, `File ${uuid.slice(0, 40)} does not exist in this project.`);
    const kind = documentKindOf(file.mimeType, file.originalFilename);
    const converted: Record<string, string> = {};
    for (const conversion of await (await this.shard(project.id)).documentConversions.finishedGroups(project.id, file.uuid)) {
      // Newest first: each format names its latest group of pages.
      if (conversion.groupId && !(conversion.plan.format in converted)) converted[conversion.plan.format] = conversion.groupId;
    }
    if (!kind) return { error: null, format: { name: formatNameOf(file), conversion_formats: [] }, converted_groups: converted };
    if (kind.kind === 'pdf') return { error: null, format: { name: 'pdf', conversion_formats: [{ name: 'jpg' }, { name: 'png' }] }, converted_groups: converted };
    const office = await this.office.status();
    if (!office.available) return { error: office.reason, format: { name: kind.name, conversion_formats: [] }, converted_groups: converted };
    return { error: null, format: { name: kind.name, conversion_formats: [{ name: 'pdf' }, { name: 'jpg' }, { name: 'png' }] }, converted_groups: converted };
  }

  /** The `document.convert` job (idempotent: a finished conversion is left alone, stored results are found again). */
  async run(job: RunningJob<DocumentConvertPayload>): Promise<void> {
    const found = await shardForJob(this.shards, job.payload.projectId, (shard) => shard.documentConversions.findByToken(job.payload.token));
    const conversion = found?.record;
    if (!conversion || DONE.includes(conversion.status)) return;
    await this.slots.run(conversion.projectId, 'background', () => this.execute(conversion, job.attempt));
  }

  private async accept(project: Project, path: string, store: boolean, saveInGroup: boolean): Promise<DocumentConversion> {
    const { sourceUuid, plan } = parseDocumentConversionPath(path, this.settings.limits.maxPages);
    const problem = (why: string) => new DocumentPathError(`Bad path "${path.slice(0, 300)}": ${why}`);
    const source = await this.liveFile(project, sourceUuid);
    if (!source) throw problem(`file ${sourceUuid} does not exist in this project.`);
    const kind = documentKindOf(source.mimeType, source.originalFilename);
    if (!kind) throw problem(`file ${sourceUuid} is ${source.mimeType}, not a document Trove converts (PDF, or DOCX, XLSX, PPTX, ODT and other Office files).`);
    if (kind.kind === 'pdf' && plan.format === 'pdf') throw problem(`file ${sourceUuid} is a PDF already.`);
    if (kind.kind === 'office') {
      const office = await this.office.status();
      if (!office.available) throw problem(office.reason);
    }
    if (source.size > this.settings.maxSourceBytes) throw problem(`file ${sourceUuid} has ${source.size} bytes; Trove converts documents up to ${this.settings.maxSourceBytes} bytes.`);

    const requestKey = documentRequestKey(project.id, sourceUuid, plan, { store, saveInGroup });
    const known = await (await this.shard(project.id)).documentConversions.findByRequest(project.id, requestKey);
    if (known) return this.again(known);
    const at = this.now();
    const conversion: DocumentConversion = {
      token: String(randomInt(1, MAX_TOKEN)),
      projectId: project.id,
      requestKey,
      sourceUuid,
      plan,
      store,
      saveInGroup,
      resultUuid: randomUUID(),
      groupId: null,
      status: 'pending',
      error: null,
      createdAt: at,
      updatedAt: at,
    };
    if (!(await (await this.shard(conversion.projectId)).documentConversions.create(conversion))) {
      // The same request arrived at the same moment: answer with the one that was recorded.
      const raced = await (await this.shard(project.id)).documentConversions.findByRequest(project.id, requestKey);
      if (raced) return raced;
      throw new Error('A conversion token collided; try again.');
    }
    await this.enqueue(conversion, conversion.token);
    return conversion;
  }

  /** A request made before: its conversion as it stands, or, when it failed, the same conversion started again. */
  private async again(conversion: DocumentConversion): Promise<DocumentConversion> {
    if (conversion.status !== 'failed' && conversion.status !== 'cancelled') return conversion;
    const at = this.now();
    if (await (await this.shard(conversion.projectId)).documentConversions.moveStatus(conversion.token, ['failed', 'cancelled'], 'pending', null, at)) {
      await this.enqueue(conversion, `${conversion.token}:${at}`);
    }
    return { ...conversion, status: 'pending', error: null, updatedAt: at };
  }

  private async execute(conversion: DocumentConversion, attempt: number): Promise<void> {
    const { token } = conversion;
    if (!(await (await this.shard(conversion.projectId)).documentConversions.moveStatus(token, ['pending', 'processing'], 'processing', null, this.now()))) return;
    const project = await this.projects.findById(conversion.projectId);
    const source = await (await this.shard(conversion.projectId)).files.findForProject(conversion.projectId, conversion.sourceUuid, { includeRemoved: true });
    if (!project || !source || source.datetimeRemoved !== null) return this.fail(conversion, 'The source file was removed before it could be converted.');
    const kind = documentKindOf(source.mimeType, source.originalFilename);
    if (!kind) return this.fail(conversion, `The source file is ${source.mimeType}, not a document Trove converts.`);
    const deadline = performance.now() + this.settings.budgetMs;
    try {
      await this.produce(project, source, kind, conversion, deadline);
    } catch (error) {
      // A document that cannot be converted, or a result the project refuses (its file types, its size limit), fails at once.
      const final = error instanceof DocumentError || (error instanceof AppError && error.statusCode < 500);
      if (final || attempt >= DOCUMENT_CONVERT_RETRY.maxAttempts) return this.fail(conversion, messageOf(error));
      throw error;
    }
    await (await this.shard(conversion.projectId)).documentConversions.moveStatus(token, ['processing'], 'finished', null, this.now());
    this.logger.info({ token, uuid: conversion.resultUuid, source: source.uuid, format: conversion.plan.format }, 'document converted');
  }

  /** Makes the results and stores them; a file an earlier attempt stored is kept. */
  private async produce(project: Project, source: StoredFile, kind: DocumentKind, conversion: DocumentConversion, deadline: number): Promise<void> {
    const bytes = await readWholeBlob(this.blobs, source);
    const pdf = kind.kind === 'office' ? await this.office.toPdf(bytes, kind.name) : bytes;
    const stem = source.originalFilename.replace(/\.[^.]*$/, '') || 'document';
    const { format, page } = conversion.plan;
    if (!isImageTarget(format)) {
      await this.storeFile(project, conversion, conversion.resultUuid, pdf, `${stem}.pdf`);
      return;
    }
    const pageCount = await this.renderer.pageCount(pdf, this.settings.limits);
    const wanted = page ?? 1;
    if (wanted > pageCount) throw new DocumentError('DOCUMENT_TOO_LARGE', `Page ${wanted} does not exist: the document has ${pageCount} pages.`);
    const pages = conversion.saveInGroup && page === null ? Array.from({ length: pageCount }, (_, i) => i + 1) : [wanted];
    const encoding = format === 'jpg' ? 'jpeg' : 'png';
    const members = [];
    for (const [position, number] of pages.entries()) {
      if (performance.now() > deadline) {
        throw new DocumentError('DOCUMENT_TIMEOUT', `The conversion took longer than its ${Math.round(this.settings.budgetMs / 1000)} s budget after ${position} of ${pages.length} pages.`);
      }
      const uuid = position === 0 ? conversion.resultUuid : documentPageUuid(conversion.token, position);
      if (!(await (await this.shard(project.id)).files.findForProject(project.id, uuid, { includeRemoved: true }))) {
        const image = await this.renderer.renderImage(pdf, number, { dpi: this.settings.dpi, format: encoding }, this.settings.limits);
        await this.storeFile(project, conversion, uuid, image.data, pages.length === 1 && page !== null ? `${stem}-page-${number}.${format}` : `${stem}-${number}.${format}`);
      }
      members.push({ position, fileUuid: uuid, effects: '' });
    }
    if (conversion.saveInGroup) {
      const id = groupId(documentPageUuid(conversion.token, -1), members.length);
      if (!(await (await this.shard(project.id)).groups.findForProject(project.id, id))) {
        await (await this.shard(project.id)).groups.create({ id, projectId: project.id, filesCount: members.length, datetimeCreated: this.now(), datetimeStored: conversion.store ? this.now() : null }, members);
      }
      await (await this.shard(conversion.projectId)).documentConversions.setGroup(conversion.token, id, this.now());
    }
  }

  private async storeFile(project: Project, conversion: DocumentConversion, uuid: string, data: Buffer, filename: string): Promise<void> {
    if (await (await this.shard(project.id)).files.findForProject(project.id, uuid, { includeRemoved: true })) return;
    const received = await this.ingest.receiveAs(uuid, Readable.from([data]), data.length, project.id);
    try {
      await this.ingest.register(project, received, { originalFilename: filename, store: conversion.store, metadata: {}, tags: [], source: 'document-conversion' });
    } catch (error) {
      await this.ingest.discard([received]);
      throw error;
    }
  }

  private async liveFile(project: Project, uuid: string): Promise<StoredFile | null> {
    const file = await (await this.shard(project.id)).files.findForProject(project.id, uuid);
    return file && !isExpired(file, this.clock.now()) ? file : null;
  }

  private async fail(conversion: DocumentConversion, reason: string): Promise<void> {
    this.logger.warn({ token: conversion.token, source: conversion.sourceUuid, reason }, 'document conversion failed');
    await (await this.shard(conversion.projectId)).documentConversions.moveStatus(conversion.token, ['pending', 'processing'], 'failed', reason, this.now());
  }

  /** Projects take turns in the document lane, so one project's many conversions do not hold it. */
  private enqueue(conversion: DocumentConversion, dedupe: string): Promise<string> {
    return enqueueJob(this.jobs, DOCUMENT_CONVERT_JOB, { token: conversion.token, projectId: conversion.projectId }, { dedupeKey: `document:${dedupe}`, fairnessKey: conversion.projectId });
  }

  /** The project's shard, asked for at each step: a conversion can outlast a move of its project. */
  private shard(projectId: string): Promise<ProjectShard> {
    return this.shards.forProject(projectId);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

/** Uploadcare's `"1"`/`"0"`, the SDK's `"true"`/`"false"`, or JSON booleans; absent: `fallback`. */
function flagOf(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined || value === null || value === '' || value === 'auto') return fallback;
  if (value === true || value === '1' || value === 'true' || value === 1) return true;
  if (value === false || value === '0' || value === 'false' || value === 0) return false;
  throw createAppError('PARAMETER_INVALID', 400, `${name} is "1" or "0" (or true, false).`);
}

/** A file's format as a short name: its extension, or the subtype of its MIME type. */
function formatNameOf(file: StoredFile): string {
  const extension = /\.([a-z0-9]{1,8})$/i.exec(file.originalFilename)?.[1];
  if (extension) return extension.toLowerCase();
  return file.mimeType.split('/')[1]?.split(/[+;]/)[0] ?? 'unknown';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
