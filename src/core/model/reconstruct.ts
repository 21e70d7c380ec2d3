// What the model makes of a photo: its input and reconstruction as PNGs, the error, and the bottleneck's code maps.
import fs from 'node:fs';
import { DoppelError, type Reconstruction } from '../../shared/api.js';
import { imageToModelInput, rgbToPng } from '../imaging/analyze.js';
import type { LazyModel } from './lazy-model.js';

/** The reconstruction of an image file's bytes, its PNGs scaled up `scale` times. */
export async function reconstructImage(model: LazyModel, image: Uint8Array, scale = 1): Promise<Reconstruction> {
  const s = model.inputSize;
  const input = await imageToModelInput(image, model.inputSpec);
  const loaded = await model.load();
  const { output, mse } = loaded.reconstruct(input);
  const [inPng, outPng] = await Promise.all([rgbToPng(input, s, s, { scale }), rgbToPng(output, s, s, { scale })]);
  const { height, width, maps } = loaded.bottleneckMaps(input);
  const codeMaps = await Promise.all(
    maps.map(async (map) => {
      let min = Infinity;
      let max = -Infinity;
      for (const v of map) [min, max] = [Math.min(min, v), Math.max(max, v)];
      const range = max - min || 1;
      const grey = new Uint8Array(map.length * 3);
      map.forEach((v, i) => grey.fill(Math.round(((v - min) / range) * 255), i * 3, i * 3 + 3));
      const png = new Uint8Array(await rgbToPng(grey, width, height));
      return { width, height, png, min, max };
    }),
  );
  return {
    input: new Uint8Array(inPng),
    output: new Uint8Array(outPng),
    mse,
    codeMaps,
    detailChannels: loaded.detailChannels,
  };
}

/** The reconstruction of a library photo's original (null: no photo with that id). */
export async function reconstructFile(model: LazyModel, file: string | null, id: number): Promise<Reconstruction> {
  if (file === null) throw new DoppelError('not-found', `No photo with id ${id}`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new DoppelError('io', `Cannot read ${file}`);
  }
  return reconstructImage(model, bytes);
}
