// Autoencoder architectures. Every model is one tfjs layers model whose layer named `code` is the
// bottleneck: the encoder is the sub-graph up to `code` (its flattened output is the stored vector),
// and the full model's output is the reconstruction shown to users.
import { tf } from './runtime.js';
import type { TF } from './tfjs.js';

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
  training: 'plain' | 'invariant';
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
    let x = input as TF.SymbolicTensor;
    const apply = (layer: TF.layers.Layer): void => {
      x = layer.apply(x) as TF.SymbolicTensor;
    };
    [conv(16), conv(32), conv(64)].forEach(apply);
    apply(tf.layers.maxPooling2d({ poolSize: 2 }));
    [conv(128), conv(64)].forEach(apply);
    apply(tf.layers.maxPooling2d({ poolSize: 2 }));
    [conv(32), conv(16), conv(8, 'sigmoid', 'code')].forEach(apply);
    [conv(16), conv(32)].forEach(apply);
    apply(tf.layers.upSampling2d({ size: [2, 2] }));
    [conv(64), conv(128)].forEach(apply);
    apply(tf.layers.upSampling2d({ size: [2, 2] }));
    [conv(64), conv(32), conv(16), conv(3, 'sigmoid', 'reconstruction')].forEach(apply);
    return tf.model({ inputs: input, outputs: x, name: 'seed_autoencoder' });
  },
};

/**
 * A cheaper network trained for invariance: full-resolution convolutions are kept narrow (the seed's
 * 64- and 128-channel convolutions at 32x32 and 16x16 are most of its cost), the code is linear
 * (centred, so cosine similarity discriminates), and training feeds attacked copies.
 */
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
    let x = input as TF.SymbolicTensor;
    const apply = (layer: TF.layers.Layer): void => {
      x = layer.apply(x) as TF.SymbolicTensor;
    };
    apply(conv(32));
    apply(tf.layers.maxPooling2d({ poolSize: 2 }));
    apply(conv(48));
    apply(tf.layers.maxPooling2d({ poolSize: 2 }));
    [conv(96), conv(96)].forEach(apply);
    apply(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'linear', name: 'code' }));
    apply(conv(96));
    apply(tf.layers.upSampling2d({ size: [2, 2] }));
    apply(conv(48));
    apply(tf.layers.upSampling2d({ size: [2, 2] }));
    [conv(24), conv(3, 'sigmoid', 'reconstruction')].forEach(apply);
    return tf.model({ inputs: input, outputs: x, name: 'invariant_autoencoder' });
  },
};

export const ARCHITECTURES: Record<string, ArchitectureSpec> = {
  [seedArchitecture.id]: seedArchitecture,
  [invariantArchitecture.id]: invariantArchitecture,
};
