// Encoding throughput of one backend, in its own process (a tfjs backend is chosen once per process).
// Usage: node --import tsx bench/encode.ts <wasm|tensorflow> [model] ; prints one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { imageToModelInput } from '../src/core/imaging/analyze.js';
import { Autoencoder } from '../src/core/model/autoencoder.js';
import { initBackend, type BackendName } from '../src/core/model/runtime.js';
import { defaultModelsDir } from '../src/core/paths.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const modelName = process.argv[3];
const photosDir = path.resolve(import.meta.dirname, '../../shared/data/photos/CSun_Hays80');

try {
  await initBackend(backend);
} catch (err) {
  process.stdout.write(JSON.stringify({ backend, available: false, reason: (err as Error).message }) + '\n');
  process.exit(0);
}
const model = await Autoencoder.load(defaultModelsDir(), modelName);
const files = fs.readdirSync(photosDir).sort().slice(0, 64);
const thumbs = await Promise.all(
  files.map((f) => imageToModelInput(fs.readFileSync(path.join(photosDir, f)), model.inputSpec)),
);
const inputs = Array.from({ length: 512 }, (_, i) => thumbs[i % thumbs.length]!);
model.encode(inputs.slice(0, 64)); // warm-up
const t0 = performance.now();
model.encode(inputs);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({
    backend: model.backend,
    available: true,
    model: model.name,
    thumbnails: inputs.length,
    seconds: Number(seconds.toFixed(3)),
    thumbnailsPerSecond: Math.round(inputs.length / seconds),
  }) + '\n',
);
