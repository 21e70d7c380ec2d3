// A trained autoencoder loaded from models/<name>/: batch encoding to vectors, and reconstruction.
import { DoppelError } from '../../shared/api.js';
import { CardDerived, ModelInfo, type ModelCard } from './card.js';
import { loadLayersModel } from './files.js';
import { initBackend, tf, type BackendName } from './runtime.js';
import type { TF } from './tfjs.js';

export { listModels, readModelsIndex, type ModelCard, type ModelsIndex } from './card.js';

const BATCH = 64;

export class Autoencoder extends CardDerived {
  private constructor(
    readonly name: string,
    readonly card: ModelCard,
    readonly backend: BackendName,
    private readonly full: TF.LayersModel,
    private readonly encoder: TF.LayersModel,
    /** Variants share their parent's weights and leave disposing them to it. */
    private readonly ownsWeights = true,
  ) {
    super();
  }

  /** The same network with other retrieval steps around it (for ablations in `doppel eval`). */
  withPreprocess(preprocess: NonNullable<ModelCard['preprocess']>, name: string): Autoencoder {
    return new Autoencoder(name, { ...this.card, preprocess }, this.backend, this.full, this.encoder, false);
  }

  /** Loads `models/<name>` (the default model when name is omitted). */
  static async load(modelsDir: string, name?: string): Promise<Autoencoder> {
    return Autoencoder.loadWeights(ModelInfo.read(modelsDir, name));
  }

  /** The weights of a model whose card is already read. */
  static async loadWeights(info: ModelInfo): Promise<Autoencoder> {
    const backend = await initBackend();
    const full = await loadLayersModel(info.dir);
    return new Autoencoder(info.name, info.card, backend, full, encoderOf(full));
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

  /** Channels of the detail code the decoder also reads (doppel-ae32-detail models), 0 when there is none. */
  get detailChannels(): number {
    const detail = this.full.layers.find((l) => l.name === 'detail');
    return detail ? ((detail.outputShape as number[]).at(-1) ?? 0) : 0;
  }

  dispose(): void {
    if (this.ownsWeights) this.full.dispose();
  }
}

function encoderOf(full: TF.LayersModel): TF.LayersModel {
  const code = full.getLayer('code');
  return tf.model({ inputs: full.inputs, outputs: code.output as TF.SymbolicTensor, name: 'encoder' });
}
