/**
 * Responsive sets: a page asks for many widths of one large original. Instead of decoding the
 * original again for each width, the engine keeps a decoded copy at half its size (an
 * "intermediate") and resizes that.
 *
 * Why half size, and why the result matches the direct one: a JPEG is decoded at a reduced scale
 * straight out of the DCT ("shrink-on-load") only as far as the whole shrink allows with room to
 * spare — sharp decodes at half size for a shrink of 3× or more, at a quarter from 5×, an eighth
 * from 9×, and at full size below 3× (it lowers the load shrink when the whole shrink rounds down to
 * it, to avoid libjpeg's rounding errors). So the intermediate, a full decode halved with the same
 * kernels, is what a 2–3× request computes anyway, and smaller widths are resampled from it instead
 * of from a coarser DCT decode, which is at least as sharp. Other formats are decoded whole by both
 * paths and shrunk with the same kernels, once in two steps instead of one.
 *
 * What it saves is bounded by that too: the decode an intermediate avoids is the entropy decoding
 * of the whole file, which every width pays, but a DCT-scaled decode for a small width is already
 * cheap. On a 24 MP JPEG and 8 widths from 320 to 2560 px, computed in process one after another,
 * the set costs about 0.6× the CPU of eight direct calls; over HTTP with two requests in flight the
 * one decode is serial and both wait for it, so throughput stays near direct sharp's
 * (bench/responsive.bench.ts).
 *
 * A plan uses an intermediate only when that holds: a still, 8-bit colour source at least
 * `minSourcePixels` large, a first stage that resizes before anything else (no extract or rotation
 * in source pixels), a target at most half the source on each side, and metadata handling that
 * does not need the source file (`strip_meta` other than `none`). Everything else is computed from
 * the original as before.
 */

import { ByteLruCache } from '../../lib/byte-lru-cache.js';
import { LruCache } from '../../lib/lru-cache.js';
import type { Size } from './geometry.js';
import type { SharpStage, Step } from './pipeline-planner.js';
import type { RawImage } from './raw-image.js';
import type { SourceHeader } from './source-header.js';

export interface IntermediateSettings {
  /** Memory for intermediates in this process, in bytes of decoded pixels; 0 turns them off. */
  maxBytes: number;
  /** Sources with fewer pixels than this are always decoded directly (their decode is cheap). */
  minSourcePixels: number;
}

/** What the engine knows about a request when it decides. */
interface Candidate {
  /** The source's identity (its blob key): intermediates are never keyed by hashing the bytes. */
  sourceKey: string | undefined;
  header: SourceHeader;
  animated: boolean;
  autorotate: boolean;
  stripMeta: 'all' | 'sensitive' | 'none';
  /** One source frame after autorotation. */
  startSize: Size;
  steps: readonly Step[];
}

interface IntermediateUse {
  key: string;
  size: Size;
  /** The plan's steps, the first one reading the intermediate instead of the source. */
  steps: Step[];
  /** How many times smaller than the source the first resize makes the image (the smaller factor of the two sides). */
  shrink: number;
  /** A JPEG source, which sharp can decode at a reduced scale for a large enough shrink. */
  jpeg: boolean;
}

/** A second width of one original within this time makes an intermediate of it worth its decode. */
const REPEAT_WINDOW_MS = 30_000;
/**
 * From this shrink on, sharp decodes a JPEG at an eighth of its size out of the DCT: cheaper than
 * waiting for an intermediate another request is still decoding.
 */
const EIGHTH_DECODE_SHRINK = 9;
/** From this shrink on, sharp decodes a JPEG at half size or less; below it, at full size. */
const REDUCED_DECODE_SHRINK = 3;

/** Half the source, rounded up as libjpeg's scaled decode rounds. */
function intermediateSize(start: Size): Size {
  return { width: Math.ceil(start.width / 2), height: Math.ceil(start.height / 2) };
}

/** Pixels per byte of an intermediate: sRGB with or without alpha, 8 bits. */
function channelsOf(header: SourceHeader): 3 | 4 {
  return header.hasAlpha ? 4 : 3;
}

export class Intermediates {
  private readonly ready: ByteLruCache<RawImage>;
  private readonly pending = new Map<string, Promise<RawImage>>();
  /** Originals (intermediate keys) a width was computed directly for, and when. */
  private readonly askedAt = new LruCache<string, number>(10_000);
  private decodes = 0;

  constructor(private readonly settings: IntermediateSettings) {
    this.ready = new ByteLruCache<RawImage>(settings.maxBytes, settings.maxBytes, (image) => image.data.length);
  }

  /** The intermediate this request may use, or null when the plan must read the original. */
  plan(candidate: Candidate): IntermediateUse | null {
    const { header, steps, startSize } = candidate;
    if (this.settings.maxBytes === 0 || candidate.sourceKey === undefined) return null;
    if (candidate.animated || header.pages > 1 || header.grey || header.metadata.depth !== 'uchar') return null;
    if (header.width * header.frameHeight < this.settings.minSourcePixels) return null;
    // EXIF and XMP are copied from the source file by the encoder: a raw intermediate has none.
    if (candidate.stripMeta === 'none') return null;
    const first = steps[0];
    if (first?.kind !== 'sharp' || !startsWithDownscale(first, startSize)) return null;
    const size = intermediateSize(startSize);
    const bytes = size.width * size.height * channelsOf(header);
    // One that could never be kept would be decoded for every width: no gain over the direct path.
    if (bytes > this.settings.maxBytes) return null;
    const fromIntermediate: SharpStage = { ...first, inputSize: size, sizeBeforeResize: size };
    const target = first.resize?.kind === 'exact' ? first.resize.size : size;
    return {
      key: `${candidate.sourceKey}\u0000${candidate.autorotate ? 'oriented' : 'as-stored'}`,
      size,
      steps: [fromIntermediate, ...steps.slice(1)],
      shrink: Math.min(startSize.width / target.width, startSize.height / target.height),
      jpeg: header.format === 'jpeg',
    };
  }

  /**
   * Whether this request reads the intermediate (kept, being decoded, or decoded now for it) or
   * the original. A JPEG width that sharp decodes at a reduced scale is cheap on its own, so the
   * first such width of an original is computed directly: one width alone never pays for a full
   * decode, and an intermediate is decoded once a second width of it comes within
   * REPEAT_WINDOW_MS. A width that would decode the whole source anyway (any other format, or a
   * JPEG shrunk less than 3×) starts the intermediate at once, for about the same cost. While one
   * is being decoded, widths of an eighth or less go directly rather than wait for it.
   */
  shouldUse(use: IntermediateUse, now = Date.now()): boolean {
    if (this.ready.get(use.key) !== undefined) return true;
    if (this.pending.has(use.key)) return !(use.jpeg && use.shrink >= EIGHTH_DECODE_SHRINK);
    if (!use.jpeg || use.shrink < REDUCED_DECODE_SHRINK) return true;
    const asked = this.askedAt.get(use.key);
    if (asked !== undefined && now - asked <= REPEAT_WINDOW_MS) return true;
    this.askedAt.set(use.key, now);
    return false;
  }

  /**
   * The intermediate under `key`, decoding it with `decode` only when neither a finished nor a
   * pending one exists: widths that arrive together share one decode.
   */
  async obtain(key: string, decode: () => Promise<RawImage>): Promise<RawImage> {
    const kept = this.ready.get(key);
    if (kept !== undefined) return kept;
    const shared = this.pending.get(key);
    if (shared !== undefined) return shared;
    this.decodes += 1;
    const work = decode();
    this.pending.set(key, work);
    try {
      const image = await work;
      this.ready.set(key, image);
      return image;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Bytes of decoded pixels kept now, decodes made so far (tests and metrics). */
  stats(): { bytes: number; decodes: number } {
    return { bytes: this.ready.size, decodes: this.decodes };
  }
}

/**
 * The stage resizes first (nothing in source pixels before it: no rotation, no extract) to at most
 * half the source on each side. Flatten and greyscale run before sharp's resize too, but they are
 * per-pixel and commute with resampling; everything after the resize sees the same image.
 */
function startsWithDownscale(stage: SharpStage, start: Size): boolean {
  if (stage.perFrame || stage.orientBefore !== null || stage.preExtract !== null) return false;
  if (stage.resize?.kind !== 'exact') return false;
  const { width, height } = stage.resize.size;
  return width * 2 <= start.width && height * 2 <= start.height;
}
