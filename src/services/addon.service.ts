import { createHash, randomUUID } from 'node:crypto';
import {
  ADDON_NAMES,
  CLAMAV_ADDON,
  clamavAppData,
  isAddonName,
  scanStatusAfter,
  uploadScanRequestId,
  type AddonName,
  type AddonRequest,
  type AddonRequestStatus,
} from '../domain/addons.js';
import { isExpired, isUuid, type StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import { addonInitiator } from '../domain/webhook.js';
import { createAppError, isAppError } from '../errors.js';
import { ADDON_EXECUTE_JOB, ADDON_RETRY, type AddonExecutePayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { Clock } from '../lib/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { ShardRepositories, ShardResolver } from '../ports/shards.js';
import { shardForJob } from './shard-lookup.js';
import { VirusScanError, type VirusScanner } from '../ports/virus-scanner.js';
import type { CacheInvalidationService } from './cache-invalidation.service.js';
import { writeAppData } from './file-changes.js';
import type { FileManagementService } from './file-management.service.js';
import type { OutboxSignal } from './outbox-signal.js';

/** Whether an add-on can run on this server, and why not. */
interface AddonAvailability {
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  /** The engine that runs it (ClamAV: `clamd 1.4.6 at tcp://…`). */
  engine?: string;
}

/** What `GET /addons/<name>/execute/status/` answers. */
interface AddonStatusAnswer {
  status: AddonRequestStatus | 'unknown';
  /** Trove extension: why a request ended in `error`. */
  error?: string;
}

interface AddonLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Trove ships no engine for these and calls no outside service: they answer as unavailable rather than with an invented result. */
const NO_ENGINE: Record<Exclude<AddonName, typeof CLAMAV_ADDON>, string> = {
  aws_rekognition_detect_labels: 'it needs Amazon Rekognition, which Trove does not call, and no offline engine for it ships with Trove.',
  aws_rekognition_detect_moderation_labels: 'it needs Amazon Rekognition, which Trove does not call, and no offline engine for it ships with Trove.',
  remove_bg: 'it needs the remove.bg service, which Trove does not call, and no offline engine for it ships with Trove.',
};

const NO_CLAMD = 'TROVE_CLAMD_URL is not set, so Trove has no ClamAV daemon to scan with.';

/**
 * Uploadcare's add-ons as durable background jobs: an execution request is recorded, then run by the
 * `addon.execute` job, which writes its result into the file's appdata. `uc_clamav_virus_scan` runs on
 * a ClamAV daemon (the `VirusScanner` port); it also scans every new upload of a project that asks for it.
 */
export class AddonService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly projects: Pick<ProjectsRepository, 'findById'>,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
    /** null: no clamd is configured. */
    private readonly scanner: VirusScanner | null,
    private readonly files: FileManagementService,
    private readonly caches: CacheInvalidationService,
    private readonly outbox: OutboxSignal,
    private readonly clock: Clock,
    private readonly logger: AddonLogger,
  ) {}

  /** Every add-on with whether it can run here, without contacting any engine. */
  configured(): Record<AddonName, AddonAvailability> {
    const clamav: AddonAvailability = this.scanner ? { available: true, engine: `clamd at ${this.scanner.address}` } : { available: false, reason: NO_CLAMD };
    return {
      uc_clamav_virus_scan: clamav,
      aws_rekognition_detect_labels: { available: false, reason: NO_ENGINE.aws_rekognition_detect_labels },
      aws_rekognition_detect_moderation_labels: { available: false, reason: NO_ENGINE.aws_rekognition_detect_moderation_labels },
      remove_bg: { available: false, reason: NO_ENGINE.remove_bg },
    };
  }

  /**
   * `/ready`: as `configured`, with clamd asked for its version within `timeoutMs`. A configured clamd
   * that does not answer makes the add-on unavailable, saying why, and the node `degraded`; an add-on
   * that is simply not set up here degrades nothing.
   */
  async readiness(timeoutMs: number): Promise<{ addons: Record<AddonName, AddonAvailability>; degraded: boolean }> {
    const addons = this.configured();
    const scanner = this.scanner;
    if (!scanner) return { addons, degraded: false };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const version = await Promise.race([scanner.version(), late]);
      addons[CLAMAV_ADDON] = { available: true, engine: `ClamAV ${version} at ${scanner.address}` };
      return { addons, degraded: false };
    } catch (error) {
      addons[CLAMAV_ADDON] = { available: false, reason: `clamd at ${scanner.address} does not answer: ${messageOf(error)}` };
      return { addons, degraded: true };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Refuses (503) what needs the virus scanner when this server has none, such as turning scan-on-upload on. */
  requireVirusScanner(): void {
    if (!this.scanner) throw unavailable(CLAMAV_ADDON, NO_CLAMD);
  }

  /** `POST /addons/<name>/execute/`: checks the request, records it and queues its job. */
  async execute(project: Project, name: string, body: { target: string; params?: Record<string, unknown> | null }): Promise<{ requestId: string }> {
    const addon = this.knownAddon(name);
    if (addon !== CLAMAV_ADDON) throw unavailable(addon, NO_ENGINE[addon]);
    if (!this.scanner) throw unavailable(addon, NO_CLAMD);
    const file = await this.targetFile(project, body.target);
    const params = clamavParams(body.params);
    const at = this.clock.now().toISOString();
    const request: AddonRequest = {
      requestId: randomUUID(),
      projectId: project.id,
      addonName: addon,
      fileUuid: file.uuid,
      params,
      status: 'in_progress',
      error: null,
      createdAt: at,
      updatedAt: at,
    };
    await (await this.shards.forProject(project.id)).addonRequests.create(request);
    await this.enqueue(request.requestId, project.id);
    return { requestId: request.requestId };
  }

  /** `GET /addons/<name>/execute/status/?request_id=`: `unknown` for an id this project never got for this add-on. */
  async status(project: Project, name: string, requestId: string | undefined): Promise<AddonStatusAnswer> {
    const addon = this.knownAddon(name);
    if (requestId === undefined || requestId === '') throw createAppError('PARAMETER_INVALID', 400, '`request_id` is required: the id `execute` answered with.');
    if (!isUuid(requestId.toLowerCase())) throw createAppError('PARAMETER_INVALID', 400, '`request_id` must be a UUID, as `execute` answers it.');
    const request = await (await this.shards.forProject(project.id)).addonRequests.find(project.id, addon, requestId.toLowerCase());
    if (!request) return { status: 'unknown' };
    return request.status === 'error' ? { status: 'error', error: request.error ?? 'The add-on failed.' } : { status: request.status };
  }

  /**
   * A new file of a project that scans uploads is held (`pending`) from its first moment; this
   * queues its scan from its `file.uploaded` event. The request id derives from the file, so a
   * dispatcher that handles the event twice still makes one request and one job.
   */
  async queueUploadScan(file: StoredFile): Promise<void> {
    if (file.scanStatus !== 'pending' || file.datetimeRemoved !== null) return;
    const project = await this.projects.findById(file.projectId);
    if (!project) return;
    const at = this.clock.now().toISOString();
    const requestId = uploadScanRequestId(createHash('sha256').update(`upload-scan:${file.uuid}`).digest('hex'));
    await (await this.shards.forProject(project.id)).addonRequests.create({
      requestId,
      projectId: project.id,
      addonName: CLAMAV_ADDON,
      fileUuid: file.uuid,
      params: { purgeInfected: project.purgeInfected },
      status: 'in_progress',
      error: null,
      createdAt: at,
      updatedAt: at,
    });
    await this.enqueue(requestId, project.id);
  }

  /** The `addon.execute` job: runs one request to its end (idempotent: a finished request is left alone). */
  async run(job: RunningJob<AddonExecutePayload>): Promise<void> {
    const found = await shardForJob(this.shards, job.payload.projectId, (shard) => shard.addonRequests.findById(job.payload.requestId));
    if (!found) return;
    const { shard, record: request } = found;
    if (request.status !== 'in_progress') return;
    if (request.addonName !== CLAMAV_ADDON) return this.fail(shard, request, null, `${request.addonName} is not available on this server.`);
    if (!this.scanner) return this.fail(shard, request, null, `uc_clamav_virus_scan is not available on this server: ${NO_CLAMD}`);
    const file = await shard.files.findForProject(request.projectId, request.fileUuid, { includeRemoved: true });
    if (!file || file.datetimeRemoved !== null) return this.fail(shard, request, null, 'The file was removed before it could be scanned.');

    let verdict: { infected: boolean; signature: string | null };
    let version: string;
    try {
      version = await this.scanner.version();
      const stream = await this.blobs.get(file.blobKey);
      if (!stream) return await this.fail(shard, request, file, 'The file’s bytes are missing from storage.');
      verdict = await this.scanner.scan(stream, file.size);
    } catch (error) {
      const retryable = !(error instanceof VirusScanError) || error.retryable;
      if (retryable && job.attempt < ADDON_RETRY.maxAttempts) throw error;
      const tries = job.attempt > 1 ? ` (after ${job.attempt} attempts)` : '';
      return this.fail(shard, request, file, `The virus scan could not be completed${tries}: ${messageOf(error)}`);
    }

    const at = this.clock.now().toISOString();
    const written = await writeAppData(
      shard,
      file,
      { addon: CLAMAV_ADDON, entry: clamavAppData(verdict, version, at, file.appdata[CLAMAV_ADDON]), scanStatus: scanStatusAfter(verdict), infected: verdict.infected },
      addonInitiator(CLAMAV_ADDON, request.requestId),
      at,
    );
    if (!written) return this.fail(shard, request, null, 'The file was removed while it was being scanned.');
    // Every process must see the new state at once: an infected file also loses its derivatives, which cache hits would serve without a record.
    if (verdict.infected) await this.caches.withdrawFile(file.uuid).catch(() => undefined);
    else await this.caches.evictFile(file.uuid).catch(() => undefined);
    this.outbox.notify();
    if (verdict.infected && request.params.purgeInfected) {
      const project = await this.projects.findById(request.projectId);
      // Through file management, as a REST delete: the removal's event, counters, caches and purge follow.
      if (project) await this.files.remove(project, file.uuid).catch((error: unknown) => {
        // A file that expired meanwhile is gone already.
        if (!isAppError(error) || error.code !== 'NOT_FOUND') throw error;
      });
    }
    await shard.addonRequests.finish(request.requestId, 'done', null, this.clock.now().toISOString());
  }

  private async fail(shard: ShardRepositories, request: AddonRequest, file: StoredFile | null, reason: string): Promise<void> {
    if (file) {
      // A file held for its upload scan stays held: Trove does not deliver what it could not check.
      if (file.scanStatus === 'pending') {
        const moved = await shard.files.moveScanStatus(file.projectId, file.uuid, 'pending', 'failed');
        if (moved) await this.caches.evictFile(file.uuid).catch(() => undefined);
      }
      this.logger.warn({ requestId: request.requestId, uuid: file.uuid, reason }, 'virus scan failed');
    }
    await shard.addonRequests.finish(request.requestId, 'error', reason, this.clock.now().toISOString());
  }

  private enqueue(requestId: string, projectId: string): Promise<string> {
    return enqueueJob(this.jobs, ADDON_EXECUTE_JOB, { requestId, projectId }, { dedupeKey: `addon:${requestId}` });
  }

  private knownAddon(name: string): AddonName {
    if (!isAddonName(name)) {
      throw createAppError('NOT_FOUND', 404, `No add-on is named "${name.slice(0, 64)}"; the add-ons are ${ADDON_NAMES.join(', ')}.`);
    }
    return name;
  }

  /** The live file of this project that `target` names; any other file is not found, whoever owns it. */
  private async targetFile(project: Project, target: string): Promise<StoredFile> {
    const uuid = target.trim().toLowerCase();
    if (!isUuid(uuid)) throw createAppError('PARAMETER_INVALID', 400, '`target` must be the UUID of a file of this project.');
    const file = await (await this.shards.forProject(project.id)).files.findForProject(project.id, uuid, { includeRemoved: true });
    if (!file || (file.datetimeRemoved === null && isExpired(file, this.clock.now()))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    if (file.datetimeRemoved !== null) throw createAppError('NOT_FOUND', 404, `File ${uuid} was removed: add-ons run on live files only.`);
    return file;
  }
}

/** ClamAV's one parameter; Uploadcare's clients send it as a boolean or as the text `true`/`false`. */
function clamavParams(params: Record<string, unknown> | null | undefined): { purgeInfected: boolean } {
  const given = params ?? {};
  const unknown = Object.keys(given).filter((key) => key !== 'purge_infected');
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((key) => `\`${key.slice(0, 64)}\``).join(', ');
    throw createAppError('PARAMETER_INVALID', 400, `uc_clamav_virus_scan takes only \`purge_infected\`; unknown: ${names}.`);
  }
  const purge = given.purge_infected;
  if (purge === undefined || purge === null || purge === false || purge === 'false') return { purgeInfected: false };
  if (purge === true || purge === 'true') return { purgeInfected: true };
  throw createAppError('PARAMETER_INVALID', 400, '`params.purge_infected` must be true or false.');
}

function unavailable(addon: AddonName, reason: string) {
  return createAppError('ADDON_UNAVAILABLE', 503, `The add-on ${addon} is not available on this server: ${reason}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
