/**
 * The face detector's thread: TensorFlow.js on its WebAssembly backend and one of face-api's
 * detectors, everything read from node_modules on disk (no download). It receives decoded RGB
 * pixels and answers boxes in those pixels; one image at a time.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectRequest, WorkerAnswer, WorkerSettings } from './face-worker-protocol.js';

const require = createRequire(import.meta.url);

interface Tensor3D {
  dispose(): void;
}

interface TfApi {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): Tensor3D;
}

interface WasmBackend {
  setWasmPaths(prefix: string, usePlatformFetch?: boolean): void;
}

interface Detection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

interface DetectorNet {
  loadFromDisk(directory: string): Promise<void>;
}

interface FaceApi {
  nets: { ssdMobilenetv1: DetectorNet; tinyFaceDetector: DetectorNet };
  SsdMobilenetv1Options: new (options: { minConfidence: number; maxResults: number }) => object;
  TinyFaceDetectorOptions: new (options: { inputSize: number; scoreThreshold: number }) => object;
  detectAllFaces(input: Tensor3D, options: object): Promise<Detection[]>;
}

const settings = workerData as WorkerSettings;
const port = parentPort;

async function start(): Promise<(request: DetectRequest) => Promise<WorkerAnswer>> {
  const tf = require('@tensorflow/tfjs') as TfApi;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmBackend;
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  // A directory path, read with fs by the backend's loader; platform fetch would need a URL it cannot open.
  const wasmDirectory = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(`${wasmDirectory}${path.sep}`, false);
  await tf.setBackend('wasm');
  await tf.ready();
  const modelDirectory = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  let options: object;
  if (settings.model === 'ssd') {
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDirectory);
    options = new faceapi.SsdMobilenetv1Options({ minConfidence: settings.minScore, maxResults: settings.maxFaces });
  } else {
    await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDirectory);
    options = new faceapi.TinyFaceDetectorOptions({ inputSize: settings.tinyInputSize, scoreThreshold: settings.minScore });
  }
  return async (request) => {
    const pixels = new Uint8Array(request.pixels);
    const tensor = tf.tensor3d(pixels, [request.height, request.width, 3], 'int32');
    try {
      const detections = await faceapi.detectAllFaces(tensor, options);
      return {
        id: request.id,
        kind: 'faces',
        // The box's fields are getters: spreading it would copy nothing.
        faces: detections.slice(0, settings.maxFaces).map(({ box, score }) => ({ x: box.x, y: box.y, width: box.width, height: box.height, score })),
      };
    } finally {
      tensor.dispose();
    }
  };
}

if (port) {
  const listener = port;
  start().then(
    (detect) => {
      listener.on('message', (request: DetectRequest) => {
        detect(request).then(
          (answer) => listener.postMessage(answer),
          (error: unknown) => listener.postMessage({ id: request.id, kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerAnswer),
        );
      });
      listener.postMessage({ id: 0, kind: 'ready' } satisfies WorkerAnswer);
    },
    (error: unknown) => {
      listener.postMessage({ id: 0, kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies WorkerAnswer);
    },
  );
}
