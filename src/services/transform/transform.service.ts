import { derivativeBlobKey } from '../../domain/blob-layout.js';
import { PDF_MIME_TYPE } from '../../domain/document-conversion.js';
import { planHash } from '../../domain/transform/cache-key.js';
import type { FaceSet } from '../../domain/faces.js';
import { type DeliveryPlan, planRequiresFaces, planUsesFaces, type TransformPlan } from '../../domain/transform/operations.js';
import type { StoredFile } from '../../domain/file.js';
import { AppError, createAppError } from '../../errors.js';
import type { LockService } from '../../ports/lock-service.js';
import type { ShardResolver } from '../../ports/shards.js';
import type { TransformRunner, TransformSource } from '../../ports/transform-runner.js';
import type { DeliveryService } from '../delivery.service.js';
import { formatVariant, type FormatVariant } from './accept-variant.js';
import type { Derivative, DerivativeCache } from './derivative-cache.js';
import type { Priority } from './fair-scheduler.js';

interface TransformSettings {
  /** Largest original Trove loads into memory to transform. */
  maxSourceBytes: number;
  /** How long a transformation lock lives if its holder dies. */
  lockTtlMs: number;
  /** How long a request waits for another process's identical transformation before doing it itself. */
  waitTimeoutMs: number;
  /** Spends the project's budget for new transformations; throws (429) when it is spent. Hits never pay. */
  admitMiss?: (projectId: string) => Promise<void>;
  /** The stored faces of a file; absent, operations that need faces answer 503 and smart crops use saliency. */
  faces?: FaceLookup;
}

/** Where a transformation's faces come from (FaceDetectionService): read once, before the job exists. */
export interface FaceLookup {
  /** The detector's version, or `off`: part of the key of every derivative that uses faces. */
  readonly revision: string;
  /** `required`: refuse (422/503) rather than answer null. */
  forTransformation(file: StoredFile, required: boolean): Promise<FaceSet | null>;
}

interface TransformObserver {
  hit(tier: 'l1' | 'l2'): void;
  miss(): void;
  rejected(code: string): void;
  /** Writing a derivative to the blob store failed: it will simply be computed again later. */
  storeFailed(key: string, error: unknown): void;
}

/** A derivative and where it came from: memory, the blob store, or computed for this request. */
export interface TieredDerivative extends Derivative {
  tier: 'l1' | 'l2' | 'miss';
}

interface DeliveredDerivative extends TieredDerivative {
  etag: string;
  /** The answer depended on the Accept header. */
  varyAccept: boolean;
}

/** What a runner needs of a file's record. */
function sourceOf(file: StoredFile): TransformSource {
  return { uuid: file.uuid, blobKey: file.blobKey, size: file.size, mimeType: file.mimeType };
}

/**
 * Transformed delivery. A request maps to a derivative key from its URL and Accept header alone,
 * so hits (memory, then the blob store) touch no database, decode nothing and take no lock. A miss
 * runs the transformation once: identical requests in this process share one promise, other
 * processes and nodes wait on the lock service, and the work itself goes to the transform runner
 * (the fair scheduler of this process or of a transform node).
 */
export class TransformService {
  private readonly inFlight = new Map<string, Promise<TieredDerivative>>();
  /** Plans come from the route's parse cache, so the same object recurs: hash it once. */
  private readonly hashes = new WeakMap<TransformPlan, string>();
  /** Derivatives on their way to the blob store, by file. */
  private readonly pendingWrites = new Map<string, Set<Promise<void>>>();

  constructor(
    private readonly delivery: DeliveryService,
    private readonly shards: ShardResolver,
    private readonly cache: DerivativeCache,
    /** Runs the miss: in this process, or on the transform node the derivative's key hashes to. */
    private readonly runner: TransformRunner,
    private readonly locks: LockService,
    private readonly observer: TransformObserver,
    private readonly settings: TransformSettings,
  ) {}

  /**
   * The memory tier only, synchronously, by derivative key (from `identityOf`). The entry is the
   * cached object itself (stable until evicted), so callers may memoise what they derive from it.
   */
  peekKey(key: string): Derivative | null {
    return this.fromMemory(key);
  }

  /**
   * The ETag and Vary of the answer, from the URL and Accept alone. The ETag names the derivative
   * (plan hash and negotiated format class), so it is the same on every node and after restarts,
   * whether or not the derivative has been computed yet.
   */
  tagOf(uuid: string, request: DeliveryPlan, accept: string | undefined): { etag: string; varyAccept: boolean } {
    const { etag, varyAccept } = this.identityOf(uuid, request, accept);
    return { etag, varyAccept };
  }

  /**
   * A client revalidating with the derivative's ETag already holds the answer, so nothing is read
   * from the blob store, scheduled or computed. What would make the answer something other than
   * that derivative is checked: the file is gone or expired (404), is not an image or is too large,
   * an overlay is not an image of the same project (400). A memory hit needs no check, as for a
   * normal hit (deletions evict it everywhere). Returns how long the answer may be cached and the
   * file's project (for the answer's cache tags). `file`: already found (a group member).
   */
  async revalidate(
    uuid: string,
    request: DeliveryPlan,
    accept: string | undefined,
    file?: StoredFile,
  ): Promise<{ temporary: boolean; projectId: string | null }> {
    const cached = this.cache.getL1(this.identityOf(uuid, request, accept).key);
    if (cached) return { temporary: cached.temporary, projectId: cached.projectId };
    const source = file ?? (await this.delivery.findOriginal(uuid));
    this.checkSource(source);
    await this.overlayFiles(source, request.plan);
    return { temporary: source.datetimeStored === null, projectId: source.projectId };
  }

  /** The memory tier only, without counting a hit (revalidations are not hits). */
  inMemory(key: string): Derivative | null {
    return this.cache.getL1(key);
  }

  private fromMemory(key: string): Derivative | null {
    const entry = this.cache.getL1(key);
    if (entry) this.observer.hit('l1');
    return entry;
  }

  /**
   * What a URL and Accept header name, without looking anything up. The HTTP fast lane keeps this
   * per URL and Accept header and answers memory hits with `peekKey` before any routing.
   */
  identityOf(uuid: string, request: DeliveryPlan, accept: string | undefined): { variant: FormatVariant | 'preserve'; key: string; etag: string; varyAccept: boolean } {
    const variant = request.plan.info ? 'preserve' : formatVariant(request.plan.output.format, accept);
    let hash = this.hashes.get(request.plan);
    if (hash === undefined) {
      // Faces are an input of the result: another detector (or none) must name other derivatives.
      hash = planUsesFaces(request.plan) ? planHash(request.plan, `faces:${this.settings.faces?.revision ?? 'none'}`) : planHash(request.plan);
      this.hashes.set(request.plan, hash);
    }
    return {
      variant,
      key: derivativeBlobKey(uuid, hash, variant),
      varyAccept: variant.startsWith('auto-'),
      // Unique per URL and Accept class (the uuid is in the URL), and stable across processes and restarts.
      etag: `"${hash}-${variant}"`,
    };
  }

  /** `priority`: what the transformation is for if it must be computed (see `Priority`); hits ignore it. */
  async deliver(uuid: string, request: DeliveryPlan, accept: string | undefined, priority: Priority = 'interactive'): Promise<DeliveredDerivative> {
    const { variant, key, varyAccept, etag } = this.identityOf(uuid, request, accept);
    const derivative = await this.deliverKey(uuid, key, () => this.compute(uuid, key, request.plan, variant, priority));
    return { ...derivative, etag, varyAccept };
  }

  /**
   * The path every derivative of a file takes, images and videos made from GIFs alike: memory, then
   * the blob store, then `compute` once (one promise for identical requests in this process, the
   * lock across processes), kept in both tiers under `key` (which must lie under the file's
   * derivatives prefix, so deleting the file purges it).
   */
  async deliverKey(uuid: string, key: string, compute: () => Promise<Derivative>): Promise<TieredDerivative> {
    const l1 = this.fromMemory(key);
    if (l1) return { ...l1, tier: 'l1' };
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const work = this.resolveMiss(uuid, key, compute);
    this.inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Empties this process's memory tier; the blob store keeps every derivative (memory pressure, tests). */
  clearMemoryTier(): void {
    this.cache.clearMemory();
  }

  /** Waits until every derivative computed so far is in the blob store (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites.values()].flatMap((writes) => [...writes]));
  }

  /** Drops a file's derivatives from this process's memory: the file is gone, its L2 purge is queued. */
  forgetFromMemory(uuid: string): void {
    this.cache.forgetFromMemory(uuid);
  }

  /** Drops a file's derivatives everywhere (called when the file is deleted or expires). */
  async purge(uuid: string): Promise<number> {
    // A write still on its way to the blob store would otherwise land after the purge.
    const writes = this.pendingWrites.get(uuid);
    if (writes) await Promise.allSettled([...writes]);
    this.pendingWrites.delete(uuid);
    return this.cache.purge(uuid);
  }

  private async resolveMiss(uuid: string, key: string, compute: () => Promise<Derivative>): Promise<TieredDerivative> {
    const fromStore = await this.cache.getL2(key);
    if (fromStore) {
      this.observer.hit('l2');
      return { ...fromStore, tier: 'l2' };
    }
    const lock = await this.locks.tryAcquire(key, this.settings.lockTtlMs);
    if (lock) {
      // Another process may have computed, stored and released between our look and our lock.
      const storedMeanwhile = await this.cache.getL2(key).catch(async (error: unknown) => {
        await lock.release();
        throw error;
      });
      if (storedMeanwhile) {
        await lock.release();
        this.observer.hit('l2');
        return { ...storedMeanwhile, tier: 'l2' };
      }
    } else {
      // Someone else is computing it: wait for them (bounded), then take their result from L2.
      await this.locks.waitForRelease(key, this.settings.waitTimeoutMs);
      const computed = await this.cache.getL2(key);
      if (computed) {
        this.observer.hit('l2');
        return { ...computed, tier: 'l2' };
      }
    }
    let derivative: Derivative;
    try {
      this.observer.miss();
      derivative = await compute();
    } catch (error) {
      await lock?.release();
      throw error;
    }
    // The client is answered from memory at once; the lock is held until the blob store has the
    // result too, so processes waiting on it find it there.
    const stored = this.cache
      .put(key, derivative)
      .catch((error: unknown) => this.observer.storeFailed(key, error))
      .finally(() => {
        this.pendingWrites.get(uuid)?.delete(stored);
        void lock?.release();
      });
    let writes = this.pendingWrites.get(uuid);
    if (!writes) {
      writes = new Set();
      this.pendingWrites.set(uuid, writes);
    }
    writes.add(stored);
    return { ...derivative, tier: 'miss' };
  }

  /**
   * Everything that needs the database happens here, on the node that received the request: the
   * record, the checks it allows, the overlays' records and the project's miss budget. What is left
   * is a self-contained job for the runner, in this process or on a transform node.
   */
  private async compute(uuid: string, key: string, plan: TransformPlan, variant: FormatVariant, priority: Priority): Promise<Derivative> {
    const file = await this.delivery.findOriginal(uuid);
    this.checkSource(file);
    const overlays: Record<string, TransformSource> = {};
    for (const [id, overlay] of await this.overlayFiles(file, plan)) {
      if (id !== 'self') overlays[id] = sourceOf(overlay);
    }
    const faces = planUsesFaces(plan) ? await this.facesOf(file, planRequiresFaces(plan)) : null;
    await this.settings.admitMiss?.(file.projectId);
    try {
      const output = await this.runner.run({ key, projectId: file.projectId, priority, source: sourceOf(file), overlays, plan, variant, ...(faces ? { faces } : {}) });
      return { data: output.data, contentType: output.contentType, temporary: file.datetimeStored === null, projectId: file.projectId };
    } catch (error) {
      if (error instanceof AppError) this.observer.rejected(error.code);
      throw error;
    }
  }

  private async facesOf(file: StoredFile, required: boolean): Promise<FaceSet | null> {
    if (this.settings.faces) return this.settings.faces.forTransformation(file, required);
    if (required) throw createAppError('FACE_DETECTION_UNAVAILABLE', 503, 'Face detection is unavailable: this server has no face detector.');
    return null;
  }

  /** What the file's record alone says about transforming it. */
  private checkSource(file: StoredFile): void {
    if (!file.isImage && file.mimeType !== PDF_MIME_TYPE) {
      throw createAppError('NOT_AN_IMAGE', 400, `File ${file.uuid} is ${file.mimeType}, not an image or a PDF: image operations do not apply.`);
    }
    if (file.size > this.settings.maxSourceBytes) {
      throw createAppError('SOURCE_TOO_LARGE', 422, `File ${file.uuid} has ${file.size} bytes; Trove transforms originals up to ${this.settings.maxSourceBytes} bytes.`);
    }
  }

  /** The overlays' records: files of the same project as the image, images, within the size limit ('self' is the image). */
  private async overlayFiles(file: StoredFile, plan: TransformPlan): Promise<Map<string, StoredFile>> {
    const overlays = new Map<string, StoredFile>();
    for (const op of plan.operations) {
      if (op.op !== 'overlay' || overlays.has(op.source)) continue;
      if (op.source === 'self') {
        overlays.set('self', file);
        continue;
      }
      const overlay = await (await this.shards.forProject(file.projectId)).files.findForProject(file.projectId, op.source);
      if (!overlay || !overlay.isImage) {
        throw createAppError('INVALID_OPERATION', 400, `overlay: ${op.source} is not an image of this project.`);
      }
      if (overlay.size > this.settings.maxSourceBytes) {
        throw createAppError('SOURCE_TOO_LARGE', 422, `overlay: ${op.source} is larger than ${this.settings.maxSourceBytes} bytes.`);
      }
      overlays.set(op.source, overlay);
    }
    return overlays;
  }

}
