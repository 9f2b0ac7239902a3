// node classify.mjs MODEL.onnx PIXELS.f32 N SIZE → JSON {"scores": [[...], ...], "classIndex": [...]} on stdout.
// PIXELS.f32 holds N images as little-endian float32 RGB planes in [0, 1], [N, 3, SIZE, SIZE].
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, pixelsPath, n, size] = process.argv.slice(2);
const bytes = readFileSync(pixelsPath);
const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const session = await ort.InferenceSession.create(model);
const out = await session.run({ image: new ort.Tensor('float32', pixels, [Number(n), 3, Number(size), Number(size)]) });
const classes = out.scores.dims[1];
const scores = [];
for (let i = 0; i < Number(n); i++) scores.push(Array.from(out.scores.data.slice(i * classes, (i + 1) * classes)));
console.log(JSON.stringify({ scores, classIndex: Array.from(out.class_index.data, Number) }));
