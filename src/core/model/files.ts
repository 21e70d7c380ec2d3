// Reading and writing models in the tfjs layers format (model.json + weights.bin) without tfjs-node's
// file:// handler, so the same code runs on every backend.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { tf } from './runtime.js';
import type { TF } from './tfjs.js';

interface ModelJson {
  modelTopology: object;
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  weightsManifest: { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
}

function weightBytes(data: TF.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const joined = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(joined);
}

export async function saveLayersModel(model: TF.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(path.join(dir, 'weights.bin'), weightBytes(artifacts.weightData));
      writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

export async function loadLayersModel(dir: string): Promise<TF.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  const specs: TF.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

interface TensorRecord {
  name: string;
  shape: number[];
}

/** Saves a list of float32 tensors (weights, optimiser slots) as one file with a JSON header. */
export function saveTensors(file: string, tensors: { name: string; tensor: TF.Tensor }[]): void {
  const header: TensorRecord[] = tensors.map(({ name, tensor }) => ({ name, shape: tensor.shape }));
  const headerBytes = Buffer.from(JSON.stringify(header));
  const parts: Uint8Array[] = [Buffer.alloc(4), headerBytes];
  parts[0] = Buffer.from(new Uint32Array([headerBytes.length]).buffer);
  for (const { tensor } of tensors) {
    const values = Float32Array.from(tensor.dataSync() as ArrayLike<number>);
    parts.push(new Uint8Array(values.buffer));
  }
  writeFileAtomic(file, Buffer.concat(parts));
}

export function loadTensors(file: string): { name: string; tensor: TF.Tensor }[] {
  const buf = fs.readFileSync(file);
  const headerLength = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + headerLength).toString('utf8')) as TensorRecord[];
  let offset = 4 + headerLength;
  return header.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    Buffer.from(values.buffer).set(buf.subarray(offset, offset + size * 4));
    offset += size * 4;
    return { name, tensor: tf.tensor(values, shape, 'float32') };
  });
}
