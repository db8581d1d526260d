import { derivativeBlobKey } from '../../domain/blob-layout.js';
import type { StoredFile } from '../../domain/file.js';
import {
  checkAnimation,
  checkGifRecord,
  CONTENT_TYPES,
  gif2videoHash,
  type Gif2VideoLimits,
  type Gif2VideoPlan,
} from '../../domain/transform/gif2video.js';
import { gif2videoGeometry } from '../../domain/transform/gif2video-geometry.js';
import { AppError, createAppError } from '../../errors.js';
import { VideoProbeError, VideoTranscodeError, type VideoEngine } from '../../ports/video-engine.js';
import type { DeliveryService } from '../delivery.service.js';
import type { Derivative } from './derivative-cache.js';
import type { FairScheduler } from './fair-scheduler.js';
import type { TieredDerivative, TransformService } from './transform.service.js';

interface GifVideoSettings {
  limits: Gif2VideoLimits;
  /** Deadline of one ffmpeg run (TROVE_TRANSFORM_TIMEOUT: someone waits for the answer). */
  timeoutMs: number;
  /** Largest video kept; larger is refused rather than held in memory. */
  maxOutputBytes: number;
  /** Spends the project's budget for new derivatives; throws (429) when it is spent. Hits never pay. */
  admitMiss?: (projectId: string) => Promise<void>;
}

interface GifVideoObserver {
  /** One GIF converted, and how long ffmpeg took. */
  converted(format: string, seconds: number): void;
  rejected(code: string): void;
}

interface DeliveredVideo extends TieredDerivative {
  etag: string;
}

/** Seconds a client waits before asking again when ffmpeg cannot run here. */
const UNAVAILABLE_RETRY_AFTER = '30';

/**
 * `/:uuid/gif2video/`: an animated GIF as an MP4 or WebM video, a derivative like any transformed
 * image. It takes the image derivatives' path (`TransformService.deliverKey`: memory, blob store,
 * single-flight, lock, purged with the file) under a key of its own plan hash and format, so a
 * second request is a hit that never runs ffmpeg.
 *
 * A miss runs in a slot of the image transformation scheduler, at interactive priority: someone is
 * waiting for the answer, and the work is bounded by image limits (bytes, pixels, frames), so it
 * belongs with the misses of other CDN requests, each project taking its turn, rather than behind
 * video conversions, whose few slots can be held for the length of a film.
 */
export class GifVideoService {
  private readonly hashes = new WeakMap<Gif2VideoPlan, string>();

  constructor(
    private readonly delivery: DeliveryService,
    private readonly transform: TransformService,
    private readonly engine: VideoEngine,
    private readonly scheduler: FairScheduler,
    private readonly observer: GifVideoObserver,
    private readonly settings: GifVideoSettings,
  ) {}

  /** The derivative's key and ETag, from the URL alone: the same on every node and after restarts. */
  identityOf(uuid: string, plan: Gif2VideoPlan): { key: string; etag: string } {
    let hash = this.hashes.get(plan);
    if (hash === undefined) {
      hash = gif2videoHash(plan);
      this.hashes.set(plan, hash);
    }
    return { key: derivativeBlobKey(uuid, hash, plan.format), etag: `"${hash}-${plan.format}"` };
  }

  /**
   * A client revalidating with the video's ETag already holds it: nothing is probed or converted.
   * What would make the answer something else is checked (the file is gone, is not a GIF, is too large).
   */
  async revalidate(uuid: string, plan: Gif2VideoPlan, file?: StoredFile): Promise<{ temporary: boolean; projectId: string | null }> {
    const cached = this.transform.inMemory(this.identityOf(uuid, plan).key);
    if (cached) return { temporary: cached.temporary, projectId: cached.projectId };
    const source = file ?? (await this.delivery.findOriginal(uuid));
    checkGifRecord(source, this.settings.limits);
    return { temporary: source.datetimeStored === null, projectId: source.projectId };
  }

  async deliver(uuid: string, plan: Gif2VideoPlan): Promise<DeliveredVideo> {
    const { key, etag } = this.identityOf(uuid, plan);
    const derivative = await this.transform.deliverKey(uuid, key, () => this.convert(uuid, plan));
    return { ...derivative, etag };
  }

  private async convert(uuid: string, plan: Gif2VideoPlan): Promise<Derivative> {
    try {
      const file = await this.delivery.findOriginal(uuid);
      checkGifRecord(file, this.settings.limits);
      const status = await this.engine.status();
      if (!status.available) {
        throw createAppError('VIDEO_UNAVAILABLE', 503, `gif2video is not available on this server: ${status.reason}`, {
          headers: { 'retry-after': UNAVAILABLE_RETRY_AFTER },
        });
      }
      await this.settings.admitMiss?.(file.projectId);
      // The GIF's structure is read before a slot is taken: one over a limit never waits for one.
      const facts = await this.engine.probeAnimation(file.blobKey).catch((error: unknown) => {
        if (error instanceof VideoProbeError) throw createAppError('CORRUPT_SOURCE', 422, `gif2video: ${error.message}`);
        throw error;
      });
      checkAnimation(facts, this.settings.limits);
      // Known from the GIF's size before a frame is decoded; never larger than the GIF.
      const { steps } = gif2videoGeometry(facts, plan.operations);
      const data = await this.scheduler.run(file.projectId, 'interactive', async () => {
        const started = performance.now();
        const video = await this.engine.animationToVideo({
          sourceKey: file.blobKey,
          plan,
          steps,
          timeoutMs: this.settings.timeoutMs,
          maxOutputBytes: this.settings.maxOutputBytes,
        });
        this.observer.converted(plan.format, (performance.now() - started) / 1000);
        return video;
      });
      return { data, contentType: CONTENT_TYPES[plan.format], temporary: file.datetimeStored === null, projectId: file.projectId };
    } catch (error) {
      const answer = asAnswer(error);
      if (answer instanceof AppError) this.observer.rejected(answer.code);
      throw answer;
    }
  }
}

/**
 * The engine's failures as answers: a timeout may pass on a retry (503); a video over the size
 * limit (422) or a GIF ffmpeg cannot convert (422) will not.
 */
function asAnswer(error: unknown): unknown {
  if (!(error instanceof VideoTranscodeError)) return error;
  switch (error.reason) {
    case 'timeout':
      return createAppError('TIMEOUT', 503, `gif2video: ${error.message}`, { headers: { 'retry-after': '5' } });
    case 'too_large':
      return createAppError('SOURCE_TOO_LARGE', 422, `gif2video: ${error.message}`);
    case 'failed':
      return createAppError('CORRUPT_SOURCE', 422, `gif2video: ${error.message}`);
  }
}
