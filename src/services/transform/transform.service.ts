import { derivativeBlobKey } from '../../domain/blob-layout.js';
import { planHash } from '../../domain/transform/cache-key.js';
import { negotiateFormat } from '../../domain/transform/negotiate.js';
import { GEOMETRIC_OPERATIONS, type DeliveryPlan, type TransformPlan } from '../../domain/transform/operations.js';
import type { StoredFile } from '../../domain/file.js';
import { AppError, createAppError, type StatusOf } from '../../errors.js';
import { EngineError, type EngineLimits, type ImageEngine } from '../../ports/image-engine.js';
import type { LockService } from '../../ports/lock-service.js';
import type { FilesRepository } from '../../ports/repositories.js';
import type { DeliveryService } from '../delivery.service.js';
import { formatVariant, representativeAccept, type FormatVariant } from './accept-variant.js';
import type { Derivative, DerivativeCache } from './derivative-cache.js';
import type { FairScheduler, Priority } from './fair-scheduler.js';

interface TransformSettings {
  limits: EngineLimits;
  /** Largest original Trove loads into memory to transform. */
  maxSourceBytes: number;
  /** How long a transformation lock lives if its holder dies. */
  lockTtlMs: number;
  /** How long a request waits for another process's identical transformation before doing it itself. */
  waitTimeoutMs: number;
  /** Spends the project's budget for new transformations; throws (429) when it is spent. Hits never pay. */
  admitMiss?: (projectId: string) => Promise<void>;
}

interface TransformObserver {
  hit(tier: 'l1' | 'l2'): void;
  miss(): void;
  transformed(seconds: number): void;
  rejected(code: string): void;
  /** Writing a derivative to the blob store failed: it will simply be computed again later. */
  storeFailed(key: string, error: unknown): void;
}

interface DeliveredDerivative extends Derivative {
  etag: string;
  /** The answer depended on the Accept header. */
  varyAccept: boolean;
  tier: 'l1' | 'l2' | 'miss';
}

const ENGINE_STATUS: { readonly [C in EngineError['code']]: StatusOf<C> } = {
  SOURCE_TOO_LARGE: 422,
  OUTPUT_TOO_LARGE: 400,
  ANIMATION_TOO_LARGE: 422,
  UNSUPPORTED_SOURCE: 400,
  INVALID_OPERATION: 400,
  TIMEOUT: 503,
  CORRUPT_SOURCE: 422,
};

/**
 * Transformed delivery. A request maps to a derivative key from its URL and Accept header alone,
 * so hits (memory, then the blob store) touch no database, decode nothing and take no lock. A miss
 * runs the transformation once: identical requests in this process share one promise, other
 * processes and nodes wait on the lock service, and the work itself goes through the fair
 * scheduler.
 */
export class TransformService {
  private readonly inFlight = new Map<string, Promise<DeliveredDerivative>>();
  /** Plans come from the route's parse cache, so the same object recurs: hash it once. */
  private readonly hashes = new WeakMap<TransformPlan, string>();
  /** Derivatives on their way to the blob store, by file. */
  private readonly pendingWrites = new Map<string, Set<Promise<void>>>();

  constructor(
    private readonly delivery: DeliveryService,
    private readonly files: FilesRepository,
    private readonly cache: DerivativeCache,
    private readonly engine: ImageEngine,
    private readonly scheduler: FairScheduler,
    private readonly locks: LockService,
    private readonly observer: TransformObserver,
    private readonly settings: TransformSettings,
  ) {}

  /**
   * The memory tier only, synchronously: the HTTP fast lane answers hits with this before any
   * routing. `entry` is the cached object itself (stable until evicted), so callers may memoise
   * what they derive from it.
   */
  peekEntry(uuid: string, request: DeliveryPlan, accept: string | undefined): { entry: Derivative; etag: string; varyAccept: boolean } | null {
    const { key, etag, varyAccept } = this.identify(uuid, request, accept);
    const entry = this.fromMemory(key);
    return entry ? { entry, etag, varyAccept } : null;
  }

  /**
   * The ETag and Vary of the answer, from the URL and Accept alone. The ETag names the derivative
   * (plan hash and negotiated format class), so it is the same on every node and after restarts,
   * whether or not the derivative has been computed yet.
   */
  tagOf(uuid: string, request: DeliveryPlan, accept: string | undefined): { etag: string; varyAccept: boolean } {
    const { etag, varyAccept } = this.identify(uuid, request, accept);
    return { etag, varyAccept };
  }

  /**
   * A client revalidating with the derivative's ETag already holds the answer, so nothing is read
   * from the blob store, scheduled or computed. What would make the answer something other than
   * that derivative is checked: the file is gone or expired (404), is not an image or is too large,
   * an overlay is not an image of the same project (400). A memory hit needs no check, as for a
   * normal hit (deletions evict it everywhere). Returns how long the answer may be cached.
   * `file`: already found (a group member).
   */
  async revalidate(uuid: string, request: DeliveryPlan, accept: string | undefined, file?: StoredFile): Promise<{ temporary: boolean }> {
    const cached = this.cache.getL1(this.identify(uuid, request, accept).key);
    if (cached) return { temporary: cached.temporary };
    const source = file ?? (await this.delivery.findOriginal(uuid));
    this.checkSource(source);
    await this.overlayFiles(source, request.plan);
    return { temporary: source.datetimeStored === null };
  }

  private fromMemory(key: string): Derivative | null {
    const entry = this.cache.getL1(key);
    if (entry) this.observer.hit('l1');
    return entry;
  }

  private identify(uuid: string, request: DeliveryPlan, accept: string | undefined) {
    const variant = request.plan.info ? 'preserve' : formatVariant(request.plan.output.format, accept);
    let hash = this.hashes.get(request.plan);
    if (hash === undefined) {
      hash = planHash(request.plan);
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

  /** `background`: eager work, which waits behind every interactive request of its project's turn. */
  async deliver(uuid: string, request: DeliveryPlan, accept: string | undefined, priority: Priority = 'interactive'): Promise<DeliveredDerivative> {
    const { variant, key, varyAccept, etag } = this.identify(uuid, request, accept);
    const l1 = this.fromMemory(key);
    if (l1) return { data: l1.data, contentType: l1.contentType, temporary: l1.temporary, etag, varyAccept, tier: 'l1' };
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const work = this.resolveMiss(uuid, key, request.plan, variant, priority).then((derivative) => ({ ...derivative, etag, varyAccept }));
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

  private async resolveMiss(
    uuid: string,
    key: string,
    plan: TransformPlan,
    variant: FormatVariant,
    priority: Priority,
  ): Promise<Derivative & { tier: 'l2' | 'miss' }> {
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
      derivative = await this.compute(uuid, plan, variant, priority);
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

  private async compute(uuid: string, plan: TransformPlan, variant: FormatVariant, priority: Priority): Promise<Derivative> {
    const file = await this.delivery.findOriginal(uuid);
    this.checkSource(file);
    await this.settings.admitMiss?.(file.projectId);
    const temporary = file.datetimeStored === null;
    try {
      // Everything heavy — reading the source, decoding, encoding — happens inside the scheduled
      // slot, so a flood of requests waits in its project's queue holding nothing but a promise.
      return await this.scheduler.run(file.projectId, priority, async () => {
        const source = await this.delivery.readSource(file);
        const probe = await this.engine.probe(source, this.settings.limits);
        if (plan.info) {
          const info = await this.engine.describe(source, plan, plan.info, this.settings.limits);
          return { data: Buffer.from(JSON.stringify(info)), contentType: 'application/json', temporary };
        }
        const { format } = negotiateFormat(plan.output.format, representativeAccept(variant), {
          format: probe.format,
          hasAlpha: probe.hasAlpha,
          animated: probe.pages > 1,
        });
        const overlays = await this.loadOverlays(file, plan, source);
        const started = performance.now();
        const result = await this.engine.transform(source, plan, { format, overlays, limits: this.settings.limits, sourceKey: file.blobKey });
        this.observer.transformed((performance.now() - started) / 1000);
        const geometric = plan.operations.some((op) => GEOMETRIC_OPERATIONS.has(op.op));
        // Re-encoding without a geometric change must never cost the client more bytes than the original.
        if (!geometric && result.data.length >= file.size) return { data: source, contentType: file.mimeType, temporary };
        return { data: result.data, contentType: result.contentType, temporary };
      });
    } catch (error) {
      if (error instanceof EngineError) {
        this.observer.rejected(error.code);
        throw createAppError(error.code, ENGINE_STATUS[error.code], error.message, {
          ...(error.code === 'TIMEOUT' ? { headers: { 'retry-after': '5' } } : {}),
        });
      }
      if (error instanceof AppError) this.observer.rejected(error.code);
      throw error;
    }
  }

  /** What the file's record alone says about transforming it. */
  private checkSource(file: StoredFile): void {
    if (!file.isImage) {
      throw createAppError('NOT_AN_IMAGE', 400, `File ${file.uuid} is ${file.mimeType}, not an image: image operations do not apply.`);
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
      const overlay = await this.files.findForProject(file.projectId, op.source);
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

  private async loadOverlays(file: StoredFile, plan: TransformPlan, source: Buffer): Promise<Map<string, Buffer>> {
    const overlays = new Map<string, Buffer>();
    for (const [id, overlay] of await this.overlayFiles(file, plan)) {
      overlays.set(id, id === 'self' ? source : await this.delivery.readSource(overlay));
    }
    return overlays;
  }
}
