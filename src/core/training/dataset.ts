// Training data: every image under some folders, decoded once to the model's input size through the
// same imaging path as indexing, and cached as one flat byte file so a resumed run starts at once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { imageToModelInput, type ModelInputSpec } from '../imaging/analyze.js';
import { scanFolder } from '../library/scan.js';
import { rng } from '../random.js';
import { writeFileAtomic } from '../atomic.js';

export interface Dataset {
  /** Number of images. */
  count: number;
  inputSize: number;
  /** count * inputSize² * 3 bytes, RGB, row-major. */
  pixels: Uint8Array;
  /** Files that could not be decoded and were left out. */
  skipped: number;
}

export async function listImages(folders: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const folder of folders) {
    for await (const event of scanFolder(path.resolve(folder))) {
      if (event.type === 'file' && event.size > 0) files.push(event.path);
    }
  }
  return files.sort();
}

export function shuffled(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export async function loadDataset(
  folders: readonly string[],
  spec: ModelInputSpec,
  cacheDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Dataset> {
  const files = await listImages(folders);
  if (files.length === 0) throw new Error(`No images found in ${folders.join(', ')}`);
  const inputSize = spec.size;
  const trim = spec.trimBorders ? '-trim' : '';
  const key = crypto
    .createHash('sha1')
    .update(`${inputSize}${trim}\n${files.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
  const cache = path.join(cacheDir, `dataset-${inputSize}${trim}-${key}.u8`);
  const size = inputSize * inputSize * 3;
  if (fs.existsSync(cache)) {
    const pixels = new Uint8Array(fs.readFileSync(cache));
    return { count: pixels.length / size, inputSize, pixels, skipped: files.length - pixels.length / size };
  }
  const decoded: (Uint8Array | null)[] = new Array<Uint8Array | null>(files.length).fill(null);
  let next = 0;
  let done = 0;
  // sharp decodes on libuv's thread pool: a few requests in flight keep the cores busy.
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      try {
        decoded[i] = await imageToModelInput(fs.readFileSync(files[i]!), spec);
      } catch {
        decoded[i] = null;
      }
      done++;
      if (done % 500 === 0) onProgress?.(done, files.length);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const ok = decoded.filter((d): d is Uint8Array => d !== null);
  const pixels = new Uint8Array(ok.length * size);
  ok.forEach((d, i) => pixels.set(d, i * size));
  fs.mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(cache, pixels);
  return { count: ok.length, inputSize, pixels, skipped: files.length - ok.length };
}
