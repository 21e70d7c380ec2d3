// Augmentations for augmentation-invariant training, as batched tensor ops: the edits users make to
// copies of photos (crops, slight rotations, mirroring, brightness, greyscale, blur, a caption bar,
// noise standing in for re-compression). Borders are not simulated: the model's input trims them.
import { tf } from '../model/runtime.js';
import type { TF } from '../model/tfjs.js';

export interface AugmentOptions {
  outSize: number;
  random: () => number;
}

const uniform = (random: () => number, lo: number, hi: number): number => lo + (hi - lo) * random();

/** Box-filters a batch of 2s x 2s images down to s x s (exact 2x2 averages). */
export function halve(images: TF.Tensor4D, size: number): TF.Tensor4D {
  return tf.image.resizeBilinear(images, [size, size], false, true);
}

function mask(values: number[], shape: [number, number, number, number]): TF.Tensor4D {
  return tf.tensor4d(values, shape);
}

/** Attacked copies of `images` (B x S x S x 3 on [0,1]) at outSize x outSize. */
export function attack(images: TF.Tensor4D, { outSize, random }: AugmentOptions): TF.Tensor4D {
  return tf.tidy(() => {
    const b = images.shape[0];
    // One random angle per batch (rotateWithOffset takes one), applied to about a third of the samples.
    const angle = (uniform(random, -10, 10) * Math.PI) / 180;
    const rotated = tf.image.rotateWithOffset(images, angle, 0);
    const rotate: number[] = [];
    const boxes: number[] = [];
    for (let i = 0; i < b; i++) {
      const r = random();
      if (r < 0.3) {
        // Rotated: keep the central part that has no filled-in corners.
        rotate.push(1);
        const keep = 1 / (Math.abs(Math.cos(angle)) + Math.abs(Math.sin(angle))) - 0.02;
        const m = (1 - keep) / 2;
        boxes.push(m, m, 1 - m, 1 - m);
      } else if (r < 0.8) {
        rotate.push(0);
        const s = uniform(random, 0.65, 1);
        const aspect = uniform(random, 0.8, 1.25);
        const h = Math.min(1, s * Math.sqrt(aspect));
        const w = Math.min(1, s / Math.sqrt(aspect));
        const y = uniform(random, 0, 1 - h);
        const x = uniform(random, 0, 1 - w);
        boxes.push(y, x, y + h, x + w);
      } else {
        rotate.push(0);
        boxes.push(0, 0, 1, 1);
      }
    }
    const source = tf.where(
      tf
        .tensor1d(rotate, 'bool')
        .reshape([b, 1, 1, 1])
        .tile([1, ...images.shape.slice(1)]) as TF.Tensor4D,
      rotated,
      images,
    ) as TF.Tensor4D;
    let x = tf.image.cropAndResize(source, tf.tensor2d(boxes, [b, 4]), tf.range(0, b, 1, 'int32') as TF.Tensor1D, [
      outSize,
      outSize,
    ]);

    const flip: number[] = [];
    const gain: number[] = [];
    const grey: number[] = [];
    const blur: number[] = [];
    const noise: number[] = [];
    const bar: number[] = [];
    for (let i = 0; i < b; i++) {
      flip.push(random() < 0.5 ? 1 : 0);
      gain.push(random() < 0.5 ? uniform(random, 0.75, 1.35) : 1);
      grey.push(random() < 0.3 ? 1 : 0);
      blur.push(random() < 0.2 ? 1 : 0);
      noise.push(random() < 0.3 ? uniform(random, 0.01, 0.04) : 0);
      const barRows = random() < 0.2 ? Math.round(outSize * uniform(random, 0.12, 0.25)) : 0;
      for (let y = 0; y < outSize; y++) bar.push(y >= outSize - barRows ? 1 : 0);
    }
    const shape1: [number, number, number, number] = [b, 1, 1, 1];
    const flipMask = mask(flip, shape1);
    x = x.mul(tf.sub(1, flipMask)).add(x.reverse(2).mul(flipMask));
    x = x.mul(mask(gain, shape1));
    const greyMask = mask(grey, shape1);
    x = x.mul(tf.sub(1, greyMask)).add(x.mean(3, true).tile([1, 1, 1, 3]).mul(greyMask));
    const blurMask = mask(blur, shape1);
    x = x.mul(tf.sub(1, blurMask)).add(tf.avgPool(x as TF.Tensor4D, 3, 1, 'same').mul(blurMask));
    x = x.add(tf.randomNormal(x.shape, 0, 1, 'float32', Math.floor(random() * 1e9)).mul(mask(noise, shape1)));
    const barMask = mask(bar, [b, outSize, 1, 1]);
    x = x.mul(tf.sub(1, barMask)).add(barMask.mul(0.08));
    return x.clipByValue(0, 1) as TF.Tensor4D;
  });
}
