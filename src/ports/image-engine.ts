import type { FaceSet } from '../domain/faces.js';
import type { InfoRequest, OutputFormat, TransformPlan } from '../domain/transform/operations.js';

/** What the engine learns from an image's header alone (no pixel decode). */
export interface ImageProbe {
  /** Lower-case sharp/libvips format name: jpeg, png, webp, avif, heif, gif, tiff, svg… */
  format: string;
  width: number;
  /** Height of one frame/page. */
  height: number;
  /** Frames of an animation or pages of a multi-page image; 1 for a still. */
  pages: number;
  hasAlpha: boolean;
  /** EXIF orientation 1–8, or 1 when absent. */
  orientation: number;
}

export interface EngineLimits {
  /** Largest source, in pixels of one frame (width × height). */
  maxSourcePixels: number;
  /** Largest output side, in pixels. */
  maxOutputDimension: number;
  /** Animated sources: frames × output pixels per frame allowed; beyond it the request fails (never a silent still). */
  maxAnimationPixels: number;
  /**
   * Frames or pages a source may have (GIF/WebP frames, TIFF pages, HEIF/AVIF sequence frames),
   * counted from its structure before any library reads it; more are refused whatever the output.
   * Absent: no limit (Trove's configuration always sets it).
   */
  maxSourcePages?: number;
  /**
   * Animated sources decoded whole (kept animated): frames × source pixels per frame. Absent: no
   * limit (Trove's configuration always sets it).
   */
  maxAnimationSourcePixels?: number;
  /** Wall-clock budget for one transformation. */
  timeoutMs: number;
}

export interface EngineResult {
  data: Buffer;
  format: OutputFormat;
  /** MIME type of `data`. */
  contentType: string;
  width: number;
  height: number;
}

/** Why the engine refused or failed; mapped to HTTP in one place. */
export type EngineErrorCode =
  | 'SOURCE_TOO_LARGE'
  | 'OUTPUT_TOO_LARGE'
  | 'ANIMATION_TOO_LARGE'
  | 'UNSUPPORTED_SOURCE'
  | 'INVALID_OPERATION'
  | 'TIMEOUT'
  | 'CORRUPT_SOURCE';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/**
 * Turns source bytes and a plan into result bytes. Needs neither the network nor the database:
 * overlay sources arrive already loaded.
 */
export interface ImageEngine {
  probe(source: Buffer, limits: EngineLimits): Promise<ImageProbe>;
  transform(
    source: Buffer,
    plan: TransformPlan,
    options: {
      /** The output format, already negotiated (never auto/preserve here). */
      format: OutputFormat;
      /** Loaded overlay sources by uuid ('self' is the source itself). */
      overlays: ReadonlyMap<string, Buffer>;
      limits: EngineLimits;
      /**
       * A stable identity of the source bytes (the original's blob key). With it, an engine may keep
       * decoded work on the source for the next request of the same original (another width).
       */
      sourceKey?: string;
      /** The file's detected faces, for plans that use them (`planUsesFaces`). */
      faces?: FaceSet;
    },
  ): Promise<EngineResult>;
  /** `-/json/` and `-/main_colors/`: facts about the (transformed) image as a JSON object. */
  describe(source: Buffer, plan: TransformPlan, info: InfoRequest, limits: EngineLimits, faces?: FaceSet): Promise<Record<string, unknown>>;
}
