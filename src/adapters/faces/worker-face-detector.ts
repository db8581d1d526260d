/**
 * Face detection in a worker thread. sharp decodes here (on libvips' own threads): the first frame,
 * upright, shrunk to at most `DETECTION_SIDE` px, RGB. The worker runs the model on those pixels,
 * one image at a time, so the event loop never waits on inference. A worker that passes the
 * per-image deadline is terminated (WebAssembly cannot be interrupted otherwise), and one that has
 * served `recycleAfter` images is replaced, which bounds what the WebAssembly heap can grow to.
 */
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { type Box, type Dimensions, type FaceModel, type FaceSet, MAX_FACES, scaleBoxes } from '../../domain/faces.js';
import { FaceDetectionError, type FaceDetector, type FaceDetectorStatus, type FaceSourceLimits } from '../../ports/face-detector.js';
import { countSourcePages, tooManyPages } from '../inspect/source-pages.js';
import type { DetectRequest, WorkerAnswer, WorkerFace, WorkerSettings } from './face-worker-protocol.js';

interface WorkerFaceDetectorOptions {
  model: FaceModel;
  /** Deadline of one image in the worker, in ms. */
  timeoutMs: number;
  /** Images a worker serves before it is replaced. */
  recycleAfter: number;
}

/**
 * Longest side the model sees. Both models work on small inputs (SSD resizes to 512, the tiny one
 * to 416), so more pixels only cost decode and transfer time; faces under ~1/40 of the side are lost.
 */
const DETECTION_SIDE = 640;
/** Scores below this are dropped: lower ones were mostly texture in the labelled set (see bench/faces). */
const MIN_SCORE = 0.5;
const TINY_INPUT_SIZE = 416;
/** Loading the backend and the weights: about a second; more means something is wrong. */
const START_TIMEOUT_MS = 60_000;

interface Pending {
  resolve(faces: WorkerFace[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface RunningWorker {
  worker: Worker;
  ready: Promise<void>;
  served: number;
  pending: Map<number, Pending>;
}

export class WorkerFaceDetector implements FaceDetector {
  readonly model: FaceModel;
  private current: RunningWorker | null = null;
  /** One image at a time: the worker is single-threaded, and a queue here keeps deadlines per image. */
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private detected = 0;
  private failure: string | null = null;
  private closed = false;

  constructor(private readonly options: WorkerFaceDetectorOptions) {
    this.model = options.model;
  }

  async detect(source: Buffer, limits: FaceSourceLimits): Promise<FaceSet> {
    if (this.model === 'off' || this.closed) throw new FaceDetectionError('unavailable', 'face detection is off (TROVE_FACE_MODEL=off)');
    const decoded = await decode(source, limits, this.options.timeoutMs);
    const run = this.queue.then(() => this.inWorker(decoded));
    this.queue = run.catch(() => undefined);
    const found = await run;
    this.detected += 1;
    const boxes: Box[] = found.map((face) => ({ left: face.x, top: face.y, width: face.width, height: face.height }));
    return { frame: decoded.frame, faces: scaleBoxes(boxes, { width: decoded.width, height: decoded.height }, decoded.frame).slice(0, MAX_FACES) };
  }

  status(): FaceDetectorStatus {
    if (this.model === 'off') return { model: this.model, state: 'off', detected: this.detected };
    if (this.failure !== null && this.current === null) return { model: this.model, state: 'failed', detected: this.detected, detail: this.failure };
    return { model: this.model, state: this.current ? 'running' : 'idle', detected: this.detected };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.retire();
  }

  private async inWorker(decoded: Decoded): Promise<WorkerFace[]> {
    const running = await this.running();
    const id = this.nextId++;
    const answer = new Promise<WorkerFace[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        running.pending.delete(id);
        reject(new FaceDetectionError('timeout', `face detection took longer than ${this.options.timeoutMs} ms`));
        // The worker is busy with this image and cannot be interrupted: a fresh one takes the next.
        void this.retire(running);
      }, this.options.timeoutMs);
      running.pending.set(id, { resolve, reject, timer });
    });
    const request: DetectRequest = { id, width: decoded.width, height: decoded.height, pixels: decoded.pixels };
    running.worker.postMessage(request, [decoded.pixels]);
    running.served += 1;
    try {
      return await answer;
    } finally {
      if (running.served >= this.options.recycleAfter) await this.retire(running);
    }
  }

  private async running(): Promise<RunningWorker> {
    if (!this.current) this.current = this.spawn();
    const running = this.current;
    try {
      await running.ready;
      this.failure = null;
      return running;
    } catch (error) {
      await this.retire(running);
      this.failure = error instanceof Error ? error.message : String(error);
      throw new FaceDetectionError('unavailable', `the face detector could not start: ${this.failure}`);
    }
  }

  private spawn(): RunningWorker {
    const settings: WorkerSettings = { model: this.model === 'tiny' ? 'tiny' : 'ssd', minScore: MIN_SCORE, maxFaces: MAX_FACES, tinyInputSize: TINY_INPUT_SIZE };
    const worker = startWorker(settings);
    worker.unref();
    const pending = new Map<number, Pending>();
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      worker.on('message', (answer: WorkerAnswer) => {
        if (answer.kind === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (answer.kind === 'failed') {
          clearTimeout(timer);
          reject(new Error(answer.message));
        } else {
          const waiting = pending.get(answer.id);
          if (!waiting) return;
          pending.delete(answer.id);
          clearTimeout(waiting.timer);
          if (answer.kind === 'faces') waiting.resolve(answer.faces);
          else waiting.reject(new FaceDetectionError('unreadable', `the detector could not analyse the image: ${answer.message}`));
        }
      });
      worker.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
        failAll(pending, new FaceDetectionError('unavailable', `the face detector stopped: ${error.message}`));
      });
      worker.on('exit', () => {
        clearTimeout(timer);
        reject(new Error('the face detector exited'));
        failAll(pending, new FaceDetectionError('unavailable', 'the face detector exited'));
        if (this.current?.worker === worker) this.current = null;
      });
    });
    // Marked handled: `running()` reads it, and a failed start must not surface as unhandled.
    ready.catch(() => undefined);
    return { worker, ready, served: 0, pending };
  }

  private async retire(running: RunningWorker | null = this.current): Promise<void> {
    if (!running) return;
    if (this.current === running) this.current = null;
    await running.worker.terminate();
  }
}

/**
 * Built, the worker is `face-worker.js` beside this file. Run from the TypeScript sources (tests,
 * `npm run dev`), it is TypeScript too: a small bootstrap registers tsx's loader in the new thread first.
 */
function startWorker(settings: WorkerSettings): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./face-worker.js', import.meta.url), { workerData: settings });
  const script = new URL('./face-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

function failAll(pending: Map<number, Pending>, error: FaceDetectionError): void {
  for (const waiting of pending.values()) {
    clearTimeout(waiting.timer);
    waiting.reject(error);
  }
  pending.clear();
}

interface Decoded {
  /** The oriented image's full size: the frame the boxes are answered in. */
  frame: Dimensions;
  width: number;
  height: number;
  pixels: ArrayBuffer;
}

/**
 * The first frame, upright, at most DETECTION_SIDE px, packed RGB. Frames and pages are counted from
 * the file's structure first (libvips' header read visits every one of them), then the pixel limit
 * is checked from the header before anything is decoded; the decode has the detection's deadline.
 */
async function decode(source: Buffer, limits: FaceSourceLimits, timeoutMs: number): Promise<Decoded> {
  const pages = countSourcePages(source, limits.maxSourcePages);
  if (pages && pages.count > limits.maxSourcePages) throw new FaceDetectionError('unreadable', tooManyPages(pages, limits.maxSourcePages));
  const maxSourcePixels = limits.maxSourcePixels;
  try {
    const options = { failOn: 'error', limitInputPixels: maxSourcePixels, autoOrient: true, pages: 1 } as const;
    const metadata = await sharp(source, options).metadata();
    const width = metadata.autoOrient.width;
    const height = metadata.autoOrient.height;
    if (!width || !height) throw new FaceDetectionError('unreadable', 'the image has no size');
    if (width * height > maxSourcePixels) throw new FaceDetectionError('unreadable', `${width}×${height} is over the ${maxSourcePixels}-pixel source limit`);
    const { data, info } = await sharp(source, options)
      .resize(DETECTION_SIDE, DETECTION_SIDE, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .timeout({ seconds: Math.max(1, Math.ceil(timeoutMs / 1000)) })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new FaceDetectionError('unreadable', `the decoded image has ${info.channels} channels, not 3`);
    // A copy the worker can own: sharp's buffer may share a larger pool.
    const pixels = new ArrayBuffer(data.length);
    new Uint8Array(pixels).set(data);
    return { frame: { width, height }, width: info.width, height: info.height, pixels };
  } catch (error) {
    if (error instanceof FaceDetectionError) throw error;
    throw new FaceDetectionError('unreadable', `the image could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
}
