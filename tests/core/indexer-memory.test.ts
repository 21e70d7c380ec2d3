// Memory while indexing is bounded by a byte budget, not by file size times concurrency: four sparse 1.9 GB
// ".jpg" files (no disk, all zeros) and a 512 MiB real JPEG (a photo followed by a hole) are indexed beside real
// photos in a process of its own, whose peak resident memory must stay under 1 GB. (Each was read whole before:
// 7.5 GB on two cores.) The budget itself: read-budget.test.ts.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IndexSummary } from '../../src/shared/api.js';
import type { StoredPhoto } from '../../src/core/store/repository.js';
import { copyInto, photos, REPO, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-memory-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const BIG = 1900 * MiB;
/** Over the in-flight budget: streamed through its descriptor, never read whole. */
const BIG_PHOTO = 512 * MiB;
const GIB_IN_KIB = 1024 * 1024;

/** A file of `size` bytes that starts with `head` and is a hole after it (no disk blocks). */
function sparse(file: string, head: Uint8Array, size: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface ChildResult {
  summary: IndexSummary;
  photos: StoredPhoto[];
  maxRssKiB: number;
  vmHwmKiB: number | null;
}

describe.skipIf(process.platform !== 'linux')('bounded memory while indexing', () => {
  it('indexes four sparse 1.9 GB .jpg files and a 512 MiB photo beside real photos under 1 GB of RSS', async () => {
    const lib = path.join(tmp, 'photos');
    const real = [...copyInto(photos('CSun_Hays80', 3), lib), ...copyInto(photos('CBSD68', 2), lib)];
    const zeros = [1, 2, 3, 4].map((n) => path.join(lib, `big${n}.jpg`));
    for (const file of zeros) sparse(file, new Uint8Array(0), BIG);
    // A real JPEG with a hole after its end: decoders stop at the end-of-image marker, so it is that photo.
    const bigPhoto = path.join(lib, 'big-photo.jpg');
    sparse(bigPhoto, fs.readFileSync(real[0]!), BIG_PHOTO);
    const libraryDir = path.join(tmp, 'library');
    fs.mkdirSync(libraryDir);

    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'tests', 'core', 'index-child.ts'), lib, libraryDir],
      { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 280_000 },
    );
    expect(child.stderr).not.toMatch(/Error/);
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildResult;
    console.log(`peak RSS of the indexing process: ${Math.round(result.maxRssKiB / 1024)} MiB`);
    expect(result.maxRssKiB).toBeLessThan(GIB_IN_KIB);

    const byPath = new Map(result.photos.map((p) => [p.path, p]));
    for (const file of zeros) {
      expect(byPath.get(file)).toMatchObject({
        status: 'error',
        size: BIG,
        error: expect.stringMatching(/^Not a supported image/),
      });
    }
    expect(result.summary.errors.map((e) => e.path).sort()).toEqual([...zeros].sort());
    for (const file of real) expect(byPath.get(file)).toMatchObject({ status: 'indexed', error: null });
    expect(result.summary.added).toBe(real.length + zeros.length + 1);

    // The big photo is the first photo: the same picture, the same thumbnail, its own content hash.
    const small = byPath.get(real[0]!)!;
    const big = byPath.get(bigPhoto)!;
    expect(big).toMatchObject({
      status: 'indexed',
      size: BIG_PHOTO,
      width: small.width,
      height: small.height,
      format: 'jpeg',
    });
    expect(big.hash).toBe(await sha256OfFile(bigPhoto));
    const thumb = (hash: string) =>
      fs.readFileSync(path.join(libraryDir, 'thumbnails', hash.slice(0, 2), `${hash}.jpg`));
    expect(thumb(big.hash!).equals(thumb(small.hash!))).toBe(true);
  }, 300_000);
});
