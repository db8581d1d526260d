/** Messages between the face detector and its worker thread. */

export interface WorkerSettings {
  model: 'ssd' | 'tiny';
  /** Detections scoring lower are dropped. */
  minScore: number;
  maxFaces: number;
  /** The tiny detector's square input side (a multiple of 32). */
  tinyInputSize: number;
}

export interface DetectRequest {
  id: number;
  width: number;
  height: number;
  /** Packed RGB, `width × height × 3` bytes; transferred, not copied. */
  pixels: ArrayBuffer;
}

export interface WorkerFace {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

export type WorkerAnswer =
  | { id: 0; kind: 'ready' }
  | { id: 0; kind: 'failed'; message: string }
  | { id: number; kind: 'faces'; faces: WorkerFace[] }
  | { id: number; kind: 'error'; message: string };
