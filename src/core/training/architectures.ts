// Autoencoder architectures. Every model is one tfjs layers model whose layer named `code` is the
// bottleneck: the encoder is the sub-graph up to `code` (its flattened output is the stored vector),
// and the full model's output is the reconstruction shown to users.
import { tf } from '../model/runtime.js';
import type { TF } from '../model/tfjs.js';

export interface ArchitectureSpec {
  /** Stable identifier written to the model card. */
  id: string;
  description: string;
  inputSize: number;
  /**
   * 'plain': reconstruct the (randomly mirrored) input. 'invariant': each image is fed twice, clean and
   * as an attacked copy (see augment.ts); both must reconstruct the clean image, and the two codes are
   * pulled together (cosine), so an edited copy lands next to its original.
   */
  training: 'plain' | 'invariant' | 'detail';
  /**
   * For 'detail' training: the architecture whose encoder (everything up to 'code') this one contains. Its
   * weights come from an --init model of that architecture and stay frozen, so the stored vectors are that
   * model's; only the rest (a detail branch and the decoder) is trained, on clean images.
   */
  searchEncoderOf?: string;
  /** Retrieval steps written to the card (see ModelCard.preprocess). */
  preprocess: { trimBorders: boolean; mirrorInvariant: boolean };
  /** The corner views offered to libraries ("find cropped copies"): the fraction of each side a view keeps. */
  cropViews?: number;
  build(): TF.LayersModel;
}

function conv(filters: number, activation: 'relu' | 'sigmoid' = 'relu', name?: string): TF.layers.Layer {
  return tf.layers.conv2d({
    filters,
    kernelSize: 3,
    padding: 'same',
    activation,
    kernelInitializer: 'heNormal',
    ...(name ? { name } : {}),
  });
}

/**
 * The seed architecture from the class project this app descends from: 32x32x3 input; Conv 16-32-64,
 * max-pool, Conv 128-64, max-pool, Conv 32-16, Conv 8 sigmoid -> an 8x8x8 code (512-d); the mirrored
 * decoder with up-sampling; MSE + Adam.
 */
export const seedArchitecture: ArchitectureSpec = {
  id: 'seed-conv-ae-32',
  description:
    'Input 32x32x3; encoder Conv16-Conv32-Conv64 (3x3 relu same), MaxPool2, Conv128-Conv64, MaxPool2, Conv32-Conv16, ' +
    'Conv8 sigmoid -> code 8x8x8 (512-d); decoder Conv16-Conv32, UpSample2, Conv64-Conv128, UpSample2, ' +
    'Conv64-Conv32-Conv16, Conv3 sigmoid; loss MSE, optimiser Adam',
  inputSize: 32,
  training: 'plain',
  preprocess: { trimBorders: false, mirrorInvariant: false },
  build() {
    const input = tf.input({ shape: [32, 32, 3], name: 'image' });
    const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
    const up = () => tf.layers.upSampling2d({ size: [2, 2] });
    const output = chain(input, [
      ...[conv(16), conv(32), conv(64), pool(), conv(128), conv(64), pool()],
      ...[conv(32), conv(16), conv(8, 'sigmoid', 'code')],
      ...[conv(16), conv(32), up(), conv(64), conv(128), up()],
      ...[conv(64), conv(32), conv(16), conv(3, 'sigmoid', 'reconstruction')],
    ]);
    return tf.model({ inputs: input, outputs: output, name: 'seed_autoencoder' });
  },
};

/**
 * A cheaper network trained for invariance: full-resolution convolutions are kept narrow (the seed's
 * 64- and 128-channel convolutions at 32x32 and 16x16 are most of its cost), the code is linear
 * (centred, so cosine similarity discriminates), and training feeds attacked copies.
 */
/** Applies layers one after the other. */
function chain(x: TF.SymbolicTensor, layers: readonly TF.layers.Layer[]): TF.SymbolicTensor {
  return layers.reduce((t, layer) => layer.apply(t) as TF.SymbolicTensor, x);
}

/** From an 8x8 code to the 32x32x3 picture: Conv, UpSample2, Conv, UpSample2, Conv, Conv3 sigmoid. */
function upDecoder(code: TF.SymbolicTensor, [a, b, c]: readonly [number, number, number]): TF.SymbolicTensor {
  const up = () => tf.layers.upSampling2d({ size: [2, 2] });
  return chain(code, [conv(a), up(), conv(b), up(), conv(c), conv(3, 'sigmoid', 'reconstruction')]);
}

/** The invariant encoder up to its 8x8x8 code; the layers are named search_1.. and 'code', in order. */
function invariantEncoder(input: TF.SymbolicTensor): TF.SymbolicTensor {
  const layers = [
    (name: string) => conv(32, 'relu', name),
    (name: string) => tf.layers.maxPooling2d({ poolSize: 2, name }),
    (name: string) => conv(48, 'relu', name),
    (name: string) => tf.layers.maxPooling2d({ poolSize: 2, name }),
    (name: string) => conv(96, 'relu', name),
    (name: string) => conv(96, 'relu', name),
  ].map((make, i) => make(`search_${i + 1}`));
  const code = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'linear', name: 'code' });
  return chain(input, [...layers, code]);
}

/** The layers of a model that make its code: 'code' and every layer it depends on, in order from the input. */
export function encoderLayers(model: TF.LayersModel): TF.layers.Layer[] {
  const codeAt = model.layers.findIndex((l) => l.name === 'code');
  const named = model.layers.filter((l) => /^search_\d+$/.test(l.name));
  if (named.length > 0) {
    const order = (l: TF.layers.Layer): number => Number(l.name.slice('search_'.length));
    return [...named.sort((a, b) => order(a) - order(b)), model.layers[codeAt]!];
  }
  // Models of a single chain: the encoder is every layer up to 'code'.
  return model.layers.slice(0, codeAt + 1);
}

export const invariantArchitecture: ArchitectureSpec = {
  id: 'doppel-ae32-inv',
  description:
    'Input 32x32x3 (uniform borders trimmed); encoder Conv32, MaxPool2, Conv48, MaxPool2, Conv96-Conv96, ' +
    'Conv8 linear -> code 8x8x8 (512-d; stored as the sum of the codes of the image and its mirror image); ' +
    'decoder Conv96, UpSample2, Conv48, UpSample2, Conv24, Conv3 sigmoid (3x3 relu same); loss MSE to the ' +
    'clean image for clean and attacked inputs + 0.05 x (1 - cosine) between their codes; Adam',
  inputSize: 32,
  training: 'invariant',
  preprocess: { trimBorders: true, mirrorInvariant: true },
  cropViews: 0.75,
  build() {
    const input = tf.input({ shape: [32, 32, 3], name: 'image' });
    const output = upDecoder(invariantEncoder(input), [96, 48, 24]);
    return tf.model({ inputs: input, outputs: output, name: 'invariant_autoencoder' });
  },
};

/**
 * The invariant encoder's 8x8x8 code (the stored vector, frozen: trained with --init from a doppel-ae32-inv
 * model) beside a detail code that only the decoder reads. The search code was trained to forget what edits
 * change (colour, brightness, framing), which is what a faithful reconstruction needs; the detail branch keeps
 * it, so the reconstruction the app shows is drawn from both without changing any vector or search result.
 */
export const detailArchitecture: ArchitectureSpec = {
  id: 'doppel-ae32-detail',
  description:
    'Input 32x32x3 (uniform borders trimmed); search encoder: that of doppel-ae32-inv (Conv32, MaxPool2, Conv48, ' +
    'MaxPool2, Conv96-Conv96, Conv8 linear -> code 8x8x8, the stored 512-d vector; frozen); detail encoder Conv24, ' +
    'MaxPool2, Conv48, MaxPool2, Conv48, Conv16 linear -> detail 8x8x16, read only by the decoder; decoder on ' +
    'code + detail (8x8x24): Conv128, UpSample2, Conv64, UpSample2, Conv32, Conv3 sigmoid (3x3 relu same); ' +
    'loss MSE on clean images; Adam',
  inputSize: 32,
  training: 'detail',
  searchEncoderOf: invariantArchitecture.id,
  preprocess: { trimBorders: true, mirrorInvariant: true },
  cropViews: 0.75,
  build() {
    const input = tf.input({ shape: [32, 32, 3], name: 'image' });
    const code = invariantEncoder(input);
    const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
    const detail = chain(input, [
      conv(24),
      pool(),
      conv(48),
      pool(),
      conv(48),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'linear', name: 'detail' }),
    ]);
    const both = tf.layers.concatenate({ axis: -1 }).apply([code, detail]) as TF.SymbolicTensor;
    return tf.model({ inputs: input, outputs: upDecoder(both, [128, 64, 32]), name: 'detail_autoencoder' });
  },
};

export const ARCHITECTURES: Record<string, ArchitectureSpec> = {
  [seedArchitecture.id]: seedArchitecture,
  [invariantArchitecture.id]: invariantArchitecture,
  [detailArchitecture.id]: detailArchitecture,
};
