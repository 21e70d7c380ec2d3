// A trained autoencoder loaded from models/<name>/: batch encoding to vectors, and reconstruction.
import { DoppelError } from '../../shared/api.js';
import { CardDerived, ModelInfo, type EncodedWithViews, type ModelCard } from './card.js';
import { loadLayersModel } from './files.js';
import { initBackend, tf, type BackendName } from './runtime.js';
import type { TF } from './tfjs.js';
import { checkPredictable, cornerFeatures, readViewPredictor } from './view-predictor.js';

export { listModels, readModelsIndex, type ModelCard, type ModelsIndex } from './card.js';

const BATCH = 64;

export class Autoencoder extends CardDerived {
  private constructor(
    readonly name: string,
    readonly card: ModelCard,
    readonly backend: BackendName,
    private readonly full: TF.LayersModel,
    private readonly encoder: TF.LayersModel,
    /** The corner-view predictor's map ((dim + 1) x dim, last row the bias), when the card has one. */
    private readonly viewMap: TF.Tensor2D | null = null,
    /** Variants share their parent's weights and leave disposing them to it. */
    private readonly ownsWeights = true,
  ) {
    super();
  }

  /** The same network with other retrieval steps around it (for ablations in `doppel eval`). */
  withPreprocess(preprocess: NonNullable<ModelCard['preprocess']>, name: string): Autoencoder {
    const card = { ...this.card, preprocess };
    return new Autoencoder(name, card, this.backend, this.full, this.encoder, this.viewMap, false);
  }

  /** Loads `models/<name>` (the default model when name is omitted). */
  static async load(modelsDir: string, name?: string): Promise<Autoencoder> {
    return Autoencoder.loadWeights(ModelInfo.read(modelsDir, name));
  }

  /** The weights of a model whose card is already read (without its view predictor: fitting a new one). */
  static async loadWeights(info: ModelInfo, opts: { viewPredictor?: boolean } = {}): Promise<Autoencoder> {
    const backend = await initBackend();
    const map = opts.viewPredictor === false ? null : readViewPredictor(info.dir, info.card);
    const full = await loadLayersModel(info.dir);
    const viewMap = map ? tf.tensor2d(map, [info.card.dim + 1, info.card.dim]) : null;
    return new Autoencoder(info.name, info.card, backend, full, encoderOf(full), viewMap);
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
    return this.inBatches(inputs, (chunk) => {
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
      return this.split(codes, chunk.length);
    });
  }

  /** The codes of inputs and of their mirror images (HWC, before they are summed into the vector). */
  codeMaps(inputs: readonly Uint8Array[]): { own: Float32Array; mirror: Float32Array }[] {
    return this.inBatches(inputs, (chunk) => {
      const [own, mirror] = tf.tidy(() => {
        const x = this.toBatch(chunk);
        const code = (t: TF.Tensor4D) => (this.encoder.predict(t) as TF.Tensor).reshape([chunk.length, -1]);
        return [code(x).dataSync() as Float32Array, code(x.reverse(2) as TF.Tensor4D).dataSync() as Float32Array];
      });
      const owns = this.split(own, chunk.length);
      const mirrors = this.split(mirror, chunk.length);
      return owns.map((o, i) => ({ own: o, mirror: mirrors[i]! }));
    });
  }

  /**
   * Vectors (the same as encode's) and each input's four corner views, predicted from the codes of the input and
   * its mirror image (model/view-predictor.ts): no encoder run beyond the vector's own. Needs a card with a fitted
   * predictor.
   */
  encodeWithViews(inputs: readonly Uint8Array[]): EncodedWithViews {
    const map = this.viewMap;
    const fraction = this.card.cropViews?.fraction;
    if (!map || fraction === undefined) {
      throw new DoppelError('invalid-argument', `Model ${this.name} has no corner-view predictor`);
    }
    checkPredictable(this.card);
    const maps = this.codeMaps(inputs);
    const dim = this.dim;
    const vectors = maps.map(({ own, mirror }) => {
      const v = new Float32Array(dim);
      for (let i = 0; i < dim; i++) v[i] = own[i]! + mirror[i]!;
      return v;
    });
    const views = this.inBatches(maps, (chunk) => {
      const features = new Float32Array(chunk.length * 4 * (dim + 1));
      chunk.forEach(({ own, mirror }, n) =>
        cornerFeatures(own, mirror, this.card.codeShape, fraction).forEach((f, k) => {
          const at = (n * 4 + k) * (dim + 1);
          features.set(f, at);
          features[at + dim] = 1;
        }),
      );
      const out = tf.tidy(
        () => tf.matMul(tf.tensor2d(features, [chunk.length * 4, dim + 1]), map).dataSync() as Float32Array,
      );
      const rows = this.split(out, chunk.length * 4);
      return chunk.map((_, n) => rows.slice(n * 4, n * 4 + 4));
    });
    return { vectors, views };
  }

  private inBatches<T, R>(items: readonly T[], fn: (chunk: readonly T[]) => R[]): R[] {
    const out: R[] = [];
    for (let start = 0; start < items.length; start += BATCH) out.push(...fn(items.slice(start, start + BATCH)));
    return out;
  }

  private split(flat: Float32Array, count: number): Float32Array[] {
    const size = flat.length / count;
    return Array.from({ length: count }, (_, i) => flat.slice(i * size, (i + 1) * size));
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
    if (!this.ownsWeights) return;
    this.full.dispose();
    this.viewMap?.dispose();
  }
}

function encoderOf(full: TF.LayersModel): TF.LayersModel {
  const code = full.getLayer('code');
  return tf.model({ inputs: full.inputs, outputs: code.output as TF.SymbolicTensor, name: 'encoder' });
}
