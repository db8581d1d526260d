const path = require('path');
const sharp = require('sharp');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
async function main() {
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(wasmDir + '/', false);
  let t = performance.now();
  await tf.setBackend('wasm'); await tf.ready();
  console.log('backend', tf.getBackend(), performance.now() - t);
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  for (const i of [1,2,3,4,5,6]) {
    const f = path.join(path.dirname(modelDir), 'demo', `sample${i}.jpg`);
    const { data, info } = await sharp(f).rotate().resize(640, 640, { fit: 'inside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const tensor = tf.tensor3d(new Uint8Array(data.buffer, data.byteOffset, data.length), [info.height, info.width, 3], 'int32');
    t = performance.now();
    const r = await faceapi.detectAllFaces(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
    const t1 = performance.now() - t; t = performance.now();
    const r2 = await faceapi.detectAllFaces(tensor, new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 }));
    const t2 = performance.now() - t;
    tensor.dispose();
    console.log(i, info.width, info.height, 'ssd', r.length, t1.toFixed(0), 'tiny', r2.length, t2.toFixed(0), JSON.stringify(r.slice(0,2).map(d => [d.box.x|0, d.box.y|0, d.box.width|0, d.box.height|0, d.score.toFixed(2)])));
  }
  console.log(tf.memory());
}
main().catch(e => { console.error(e); process.exit(1); });
