import type { FaceModel, FaceSet } from '../domain/faces.js';

/**
 * Why no faces could be given. `unreadable`: the image's bytes are the trouble (a retry would not
 * help). `timeout`: the image took longer than the per-image deadline. `unavailable`: detection is
 * off or the detector could not start.
 */
export class FaceDetectionError extends Error {
  constructor(
    readonly reason: 'unreadable' | 'timeout' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'FaceDetectionError';
  }
}

/** The source limits of transformations: nothing is decoded for faces that delivery would refuse. */
export interface FaceSourceLimits {
  /** Pixels of one frame. */
  maxSourcePixels: number;
  /** Frames or pages, counted from the file's structure before libvips reads its header. */
  maxSourcePages: number;
}

export interface FaceDetectorStatus {
  model: FaceModel;
  /** `idle`: ready to start on the first image; `running`: a detector is loaded; `failed`: the last start failed. */
  state: 'off' | 'idle' | 'running' | 'failed';
  /** Images detected since this process started. */
  detected: number;
  detail?: string;
}

/** Finds faces in an image's first frame. Needs neither the network nor the database. */
export interface FaceDetector {
  readonly model: FaceModel;
  /** Boxes in the oriented image's full-size pixels. Throws `FaceDetectionError`. */
  detect(source: Buffer, limits: FaceSourceLimits): Promise<FaceSet>;
  status(): FaceDetectorStatus;
  close(): Promise<void>;
}
