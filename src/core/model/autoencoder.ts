// A trained autoencoder loaded from models/<name>/: batch encoding to vectors, and reconstruction.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import type { ModelInputSpec } from '../imaging/analyze.js';
import { loadLayersModel } from './files.js';
import { initBackend, tf, type BackendName } from './runtime.js';
import type { TF } from './tfjs.js';

export interface ModelCard {
  name: string;
  architecture: { id: string; description: string };
  inputSize: number;
  codeShape: number[];
  dim: number;
  data: { folders: string[]; images: number; trainImages: number; validationImages: number };
  training: {
    epochs: number;
    samplesSeen: number;
    batchSize: number;
    learningRate: number;
    augmentation: string;
    backend: string;
    trainSeconds: number;
  };
  losses: { trainMse: number | null; validationMse: number | null };
  history: { epoch: number; samplesSeen: number; trainMse: number; validationMse: number }[];
  eval?: Record<string, unknown>;
  /**
   * Retrieval steps around the network: trim uniform borders from the input, and store the sum of the
   * codes of the image and its mirror image so that a mirrored copy has the same vector.
   */
  preprocess?: { trimBorders?: boolean; mirrorInvariant?: boolean; greyWeight?: number };
  /** Cosine similarity thresholds for the duplicate tiers, calibrated on the retrieval benchmark. */
  thresholds?: { near: number; similar: number };
  command: string;
  createdAt: string;
}

export interface ModelsIndex {
  default: string;
}

export function readModelsIndex(modelsDir: string): ModelsIndex {
  const file = path.join(modelsDir, 'models.json');
  if (!fs.existsSync(file)) throw new DoppelError('model', `No models index at ${file}`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelsIndex;
}

export function listModels(modelsDir: string): string[] {
  if (!fs.existsSync(modelsDir)) return [];
  return fs
    .readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(modelsDir, d.name, 'model.json')))
    .map((d) => d.name)
    .sort();
}

const BATCH = 64;

export class Autoencoder {
  private constructor(
    readonly name: string,
    readonly card: ModelCard,
    readonly backend: BackendName,
    private readonly full: TF.LayersModel,
    private readonly encoder: TF.LayersModel,
    /** Variants share their parent's weights and leave disposing them to it. */
    private readonly ownsWeights = true,
  ) {}

  /** The same network with other retrieval steps around it (for ablations in `doppel eval`). */
  withPreprocess(preprocess: NonNullable<ModelCard['preprocess']>, name: string): Autoencoder {
    return new Autoencoder(name, { ...this.card, preprocess }, this.backend, this.full, this.encoder, false);
  }

  get inputSize(): number {
    return this.card.inputSize;
  }

  get dim(): number {
    return this.card.dim;
  }

  /** How this model's input is made from an image (pass to imageToModelInput / analyzeImage). */
  get inputSpec(): ModelInputSpec {
    return { size: this.card.inputSize, trimBorders: this.card.preprocess?.trimBorders ?? false };
  }

  /** Loads `models/<name>` (the default model when name is omitted). */
  static async load(modelsDir: string, name?: string): Promise<Autoencoder> {
    const backend = await initBackend();
    const modelName = name ?? readModelsIndex(modelsDir).default;
    const dir = path.join(modelsDir, modelName);
    if (!fs.existsSync(path.join(dir, 'model.json'))) {
      throw new DoppelError('model', `Model "${modelName}" not found in ${modelsDir}`);
    }
    const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
    const full = await loadLayersModel(dir);
    return new Autoencoder(modelName, card, backend, full, encoderOf(full));
  }

  /** Wraps a model in memory (used by training and tests). */
  static fromModel(name: string, card: ModelCard, backend: BackendName, full: TF.LayersModel): Autoencoder {
    return new Autoencoder(name, card, backend, full, encoderOf(full));
  }

  private toBatch(inputs: readonly Uint8Array[]): TF.Tensor4D {
    const s = this.inputSize;
    const size = s * s * 3;
    const data = new Float32Array(inputs.length * size);
    inputs.forEach((input, i) => {
      if (input.length !== size) {
        throw new DoppelError(
          'invalid-argument',
          `Model input must be ${s}x${s} RGB (${size} bytes), got ${input.length}`,
        );
      }
      for (let j = 0; j < size; j++) data[i * size + j] = input[j]! / 255;
    });
    return tf.tensor4d(data, [inputs.length, s, s, 3]);
  }

  /** Encodes RGB model inputs (inputSize² x 3 bytes each) to flat code vectors, in batches. */
  encode(inputs: readonly Uint8Array[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += BATCH) {
      const chunk = inputs.slice(start, start + BATCH);
      const codes = tf.tidy(() => {
        const x = this.toBatch(chunk);
        const codeOf = (t: TF.Tensor4D): TF.Tensor => {
          const c = this.encoder.predict(t) as TF.Tensor;
          return this.card.preprocess?.mirrorInvariant ? c.add(this.encoder.predict(t.reverse(2)) as TF.Tensor) : c;
        };
        let y = codeOf(x);
        const greyWeight = this.card.preprocess?.greyWeight ?? 0;
        if (greyWeight > 0) {
          const grey = x
            .mul(tf.tensor1d([0.299, 0.587, 0.114]))
            .sum(3, true)
            .tile([1, 1, 1, 3]) as TF.Tensor4D;
          y = y.add(codeOf(grey).mul(greyWeight));
        }
        return y.reshape([chunk.length, -1]).dataSync() as Float32Array;
      });
      for (let i = 0; i < chunk.length; i++) out.push(codes.slice(i * this.dim, (i + 1) * this.dim));
    }
    return out;
  }

  /** The decoder's output for one input, as RGB bytes, with the code and the MSE on [0,1] pixels. */
  reconstruct(input: Uint8Array): { output: Uint8Array; code: Float32Array; mse: number } {
    return tf.tidy(() => {
      const x = this.toBatch([input]);
      const y = this.full.predict(x) as TF.Tensor;
      const code = (this.encoder.predict(x) as TF.Tensor).dataSync() as Float32Array;
      const mse = tf.losses.meanSquaredError(x, y).dataSync()[0]!;
      const pixels = y.mul(255).round().clipByValue(0, 255).dataSync();
      return { output: Uint8Array.from(pixels), code: Float32Array.from(code), mse };
    });
  }

  /** The encoder's bottleneck for one input, one height x width map per channel (the code is stored HWC). */
  bottleneckMaps(input: Uint8Array): { height: number; width: number; maps: Float32Array[] } {
    const code = tf.tidy(() => (this.encoder.predict(this.toBatch([input])) as TF.Tensor).dataSync() as Float32Array);
    const [height = 1, width = 1, channels = code.length] = this.card.codeShape;
    const maps = Array.from({ length: channels }, (_, c) => {
      const map = new Float32Array(height * width);
      for (let i = 0; i < map.length; i++) map[i] = code[i * channels + c]!;
      return map;
    });
    return { height, width, maps };
  }

  dispose(): void {
    if (this.ownsWeights) this.full.dispose();
  }
}

function encoderOf(full: TF.LayersModel): TF.LayersModel {
  const code = full.getLayer('code');
  return tf.model({ inputs: full.inputs, outputs: code.output as TF.SymbolicTensor, name: 'encoder' });
}
