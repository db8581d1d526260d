import { WorkerFaceDetector } from '../adapters/faces/worker-face-detector.js';
import { FaceDetectionService } from '../services/face-detection.service.js';
import type { FeatureStatus } from '../services/readiness.service.js';
import type { Basics } from './basics.js';
import type { Coordination } from './coordination.js';
import type { Storage } from './storage.js';

interface Faces {
  /** Detections after upload (`faces.detect`), for transformations and `/:uuid/detect_faces/`. */
  service: FaceDetectionService;
  /** For `/ready`. */
  status(): FeatureStatus;
  /** Stops the detector's worker thread. */
  close(): Promise<void>;
}

/** The face detector of TROVE_FACE_MODEL (a worker thread started on first use) and the service over it. */
export function createFaces(basics: Basics, storage: Pick<Storage, 'shards' | 'blobs'>, coordination: Pick<Coordination, 'jobs' | 'locks'>): Faces {
  const { config, clock, logger } = basics;
  const detector = new WorkerFaceDetector({ model: config.faces.model, timeoutMs: config.faces.timeoutMs, recycleAfter: config.faces.recycleAfter });
  const service = new FaceDetectionService(storage.shards, storage.blobs, coordination.jobs, detector, coordination.locks, clock, logger, {
    maxSourcePixels: config.transform.maxSourcePixels,
    maxSourcePages: config.transform.maxSourcePages,
    maxSourceBytes: config.transform.maxSourceBytes,
    // The deadline, a worker's start (about 2 s) and reading the original.
    lockTtlMs: config.faces.timeoutMs + 30_000,
  });
  return {
    service,
    status() {
      const status = service.readiness();
      if (status.state === 'off') return { available: false, reason: 'TROVE_FACE_MODEL=off' };
      if (status.state === 'failed') return { available: false, reason: `the detector could not start: ${status.detail ?? 'unknown'}`, engine: status.model };
      return { available: true, engine: `${status.model} (worker ${status.state === 'running' ? 'running' : 'starts on first use'}, ${status.detected} images)` };
    },
    close: () => detector.close(),
  };
}
