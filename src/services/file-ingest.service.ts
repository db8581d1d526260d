import { randomUUID } from 'node:crypto';
import { pipeline, Writable, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { keyWithinRegion, originalBlobKey } from '../domain/blob-layout.js';
import { sanitizeOriginalFilename, safeFilename } from '../domain/filename.js';
import type { FileMetadata, StoredFile } from '../domain/file.js';
import { effectiveMaxFileSize, isMimeTypeAllowed, type Project } from '../domain/project.js';
import { createAppError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ContentInspector } from '../ports/content-inspector.js';
import type { VideoEngine } from '../ports/video-engine.js';
import type { ContentInfo } from '../domain/content-info.js';
import { videoFormatFor } from '../domain/video-info.js';
import type { ShardResolver } from '../ports/shards.js';
import { isoAfter, type Clock } from '../lib/clock.js';
import { insertFiles } from './file-changes.js';
import { ByteMeter } from '../lib/byte-meter.js';
import type { OutboxSignal } from './outbox-signal.js';

/** Bytes that reached the blob store but have no file record yet. */
export interface ReceivedBlob {
  uuid: string;
  blobKey: string;
  size: number;
  sha256: string;
  head: Buffer;
}

interface RegisterOptions {
  originalFilename: string | undefined;
  store: boolean;
  metadata: FileMetadata;
  tags: string[];
  source: string | null;
  sourceUrl?: string | null;
}

interface FileIngestSettings {
  maxFileSize: number;
  unstoredFileTtlMs: number;
  /** Where bytes of a project not known yet land (this node's region): the root of its keys. */
  localBlobRoot: string;
}

interface IngestLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Reads a video's facts at upload; absent, videos are kept without them. */
interface VideoFacts {
  engine: VideoEngine;
  logger: IngestLogger;
}

/**
 * Turns incoming bytes into files. Bytes land in the blob store first (atomically, bounded in size
 * while streaming); the file record is written last, so a file exists only once its bytes do, and
 * any failure before that removes what was written.
 */
export class FileIngestService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly inspector: ContentInspector,
    private readonly shards: ShardResolver,
    private readonly clock: Clock,
    private readonly settings: FileIngestSettings,
    /** Raised after file records (and their upload events) are written, so webhooks go out at once. */
    private readonly outbox: OutboxSignal,
    private readonly video: VideoFacts | null = null,
  ) {}

  /**
   * Streams `body` into a new blob, refusing it as soon as it passes `maxBytes`. With the project
   * known, the bytes go straight to its region's storage; without (its key comes later in the
   * form), to this node's region, and `prepare` moves them if the project lives elsewhere.
   */
  async receive(body: Readable, maxBytes: number, onTooLarge?: () => Error, projectId?: string): Promise<ReceivedBlob> {
    const uuid = randomUUID();
    const blobKey = originalBlobKey(uuid, projectId === undefined ? this.settings.localBlobRoot : await this.blobRootOf(projectId));
    const meter = new ByteMeter(maxBytes, this.inspector.headBytes, onTooLarge);
    const metered = pipeline(body, meter, () => undefined);
    await this.blobs.put(blobKey, metered);
    return { uuid, blobKey, size: meter.bytes, sha256: meter.sha256(), head: meter.head() };
  }

  /** As `receive`, under a uuid chosen in advance (a conversion's result, named before it exists), in the project's region. */
  async receiveAs(uuid: string, body: Readable, maxBytes: number, projectId: string): Promise<ReceivedBlob> {
    const blobKey = originalBlobKey(uuid, await this.blobRootOf(projectId));
    const meter = new ByteMeter(maxBytes, this.inspector.headBytes);
    const metered = pipeline(body, meter, () => undefined);
    await this.blobs.put(blobKey, metered);
    return { uuid, blobKey, size: meter.bytes, sha256: meter.sha256(), head: meter.head() };
  }

  /**
   * Reads back bytes that were assembled in the store (multipart) to learn their size, hash and head.
   * The whole object is streamed once: SHA-256 needs every byte in order.
   */
  async measureStored(uuid: string, blobKey: string): Promise<ReceivedBlob> {
    const stream = await this.blobs.get(blobKey);
    if (!stream) throw createAppError('MultipartFileCompletionFailedError', 500, 'Assembled file bytes are missing from storage.');
    const meter = new ByteMeter(Number.MAX_SAFE_INTEGER, this.inspector.headBytes);
    await pipelineAsync(stream, meter, new Writable({ write: (_chunk, _enc, done) => done(), highWaterMark: 1024 * 1024 }));
    return { uuid, blobKey, size: meter.bytes, sha256: meter.sha256(), head: meter.head() };
  }

  /** The root of a project's original keys: its shard's region's. */
  async blobRootOf(projectId: string): Promise<string> {
    return (await this.shards.forProject(projectId)).blobRoot;
  }

  /**
   * Moves bytes received before their project was known into its region's storage, when that is
   * not where they landed; `received` then names the new key (which the caller discards on failure).
   */
  private async intoProjectRegion(projectId: string, received: ReceivedBlob): Promise<void> {
    const root = await this.blobRootOf(projectId);
    if (keyWithinRegion(root, received.blobKey) !== null) return;
    const target = originalBlobKey(received.uuid, root);
    const stream = await this.blobs.get(received.blobKey);
    if (!stream) throw createAppError('ServiceUnavailable', 503, 'The uploaded bytes left storage before they were registered: upload the file again.');
    await this.blobs.put(target, stream, { size: received.size });
    await this.blobs.delete(received.blobKey).catch(() => undefined);
    received.blobKey = target;
  }

  /** Removes bytes whose file will never be registered. Never throws: cleanup must not mask the real error. */
  async discard(received: Iterable<Pick<ReceivedBlob, 'blobKey'>>): Promise<void> {
    await Promise.all([...received].map((r) => this.blobs.delete(r.blobKey).catch(() => undefined)));
  }

  /** Checks the project's rules against the received bytes, then writes the file record. */
  async register(project: Project, received: ReceivedBlob, options: RegisterOptions): Promise<StoredFile> {
    const file = await this.prepare(project, received, options);
    await insertFiles(await this.shards.forProject(project.id), [file]);
    this.announce();
    return file;
  }

  private announce(): void {
    this.outbox.notify();
  }

  /** Writes the records of prepared files of one project in one transaction: all become visible, or none. */
  async commit(files: StoredFile[]): Promise<void> {
    const projectId = files[0]?.projectId;
    if (projectId === undefined) return;
    if (files.some((file) => file.projectId !== projectId)) throw new Error('commit: files of one project only (each project has its own shard)');
    await insertFiles(await this.shards.forProject(projectId), files);
    this.announce();
  }

  /**
   * Checks the project's rules and learns the file's type; writes no record. Bytes that landed
   * outside the project's region (its key came after the file) are moved there first.
   */
  async prepare(project: Project, received: ReceivedBlob, options: RegisterOptions): Promise<StoredFile> {
    this.assertAcceptable(project, received.size);
    const inspected = await this.inspector.inspect(received.head, received.size);
    if (!isMimeTypeAllowed(project, inspected.mimeType)) {
      throw createAppError(
        'FileTypeForbiddenError',
        415,
        `Files of type ${inspected.mimeType} are not accepted by this project (allowed: ${(project.allowedMimeTypes ?? []).join(', ')}).`,
      );
    }
    await this.intoProjectRegion(project.id, received);
    const now = this.clock.now().toISOString();
    const originalFilename = sanitizeOriginalFilename(options.originalFilename);
    const file: StoredFile = {
      uuid: received.uuid,
      projectId: project.id,
      size: received.size,
      mimeType: inspected.mimeType,
      isImage: inspected.isImage,
      originalFilename,
      filename: safeFilename(originalFilename),
      sha256: received.sha256,
      blobKey: received.blobKey,
      contentInfo: inspected.mimeType.startsWith('video/') ? await this.withVideoFacts(received, inspected.mimeType, inspected.contentInfo) : inspected.contentInfo,
      metadata: options.metadata,
      tags: options.tags,
      appdata: {},
      // Held from its first moment: the scan job is queued from the file's upload event.
      scanStatus: project.scanOnUpload ? 'pending' : null,
      source: options.source,
      sourceUrl: options.sourceUrl ?? null,
      datetimeUploaded: now,
      datetimeStored: options.store ? now : null,
      datetimeRemoved: null,
      expiresAt: options.store ? null : isoAfter(this.clock, this.settings.unstoredFileTtlMs),
    };
    return file;
  }

  /**
   * Adds the probe of a video to what its head told. A file ffprobe cannot read (truncated, lying,
   * hostile, or no ffprobe here) is kept as a plain file, and the reason is logged: an upload never
   * fails for its video facts.
   */
  private async withVideoFacts(received: ReceivedBlob, mimeType: string, contentInfo: ContentInfo): Promise<ContentInfo> {
    if (!this.video) return contentInfo;
    try {
      const probe = await this.video.engine.probe(received.blobKey);
      return { ...contentInfo, video: { ...probe.info, format: videoFormatFor(mimeType, probe.info.format) } };
    } catch (error) {
      this.video.logger.warn({ uuid: received.uuid, mimeType, reason: error instanceof Error ? error.message : String(error) }, 'video facts not read');
      return contentInfo;
    }
  }

  /** Size rules known before any byte arrives (multipart start) or after the last one. */
  assertAcceptable(project: Project, size: number): void {
    if (size === 0) throw createAppError('FileRequiredError', 400, 'The file is empty (0 bytes).');
    const limit = this.maxFileSizeFor(project);
    if (size > limit) {
      throw createAppError('FileSizeLimitExceededError', 413, `File size ${size} bytes exceeds the ${limit}-byte limit.`);
    }
  }

  maxFileSizeFor(project: Project): number {
    return effectiveMaxFileSize(project, this.settings.maxFileSize);
  }
}
