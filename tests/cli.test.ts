// The doppel CLI end to end, as a user runs it: the built bin, a real SQLite file, the shipped model,
// real photos from ../shared/data.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correlation, PHOTOS, REPO, std, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-cli-');
const db = path.join(tmp, 'library.sqlite');

function doppel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') },
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
}

interface IndexJson {
  scanned: number;
  added: number;
  unchanged: number;
  errors: { path: string; reason: string }[];
  photos: number;
  durationMs: number;
}

let first: IndexJson;

beforeAll(() => {
  expect(fs.existsSync(path.join(REPO, 'out', 'cli', 'doppel.js'))).toBe(true);
  const r = doppel('index', PHOTOS, '--db', db, '--json');
  expect(r.stderr).not.toMatch(/^doppel:/m);
  expect(r.status).toBe(0);
  first = JSON.parse(r.stdout) as IndexJson;
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel CLI', () => {
  it('indexes every photo of ../shared/data/photos', () => {
    const count = ['CBSD68', 'CSet14', 'CSun_Hays80'].reduce(
      (n, d) => n + fs.readdirSync(path.join(PHOTOS, d)).length,
      0,
    );
    expect(first).toMatchObject({ scanned: count, added: count, errors: [], photos: count });
  });

  it('lists the original first for a half-size JPEG-quality-50 copy of a library photo', async () => {
    const originals = ['CSun_Hays80', 'CBSD68', 'CSet14'].map((d) => {
      const dir = path.join(PHOTOS, d);
      return path.join(dir, fs.readdirSync(dir).sort()[5]!);
    });
    const queries = await Promise.all(
      originals.map(async (o, i) => {
        const meta = await sharp(o).metadata();
        const q = path.join(tmp, `query-${i}.jpg`);
        await sharp(o)
          .resize(Math.round(meta.width! / 2))
          .jpeg({ quality: 50 })
          .toFile(q);
        return q;
      }),
    );
    const r = doppel('similar', ...queries, '-k', '5', '--db', db, '--json');
    expect(r.status).toBe(0);
    const lines = jsonLines(r.stdout) as { query: string; results: { path: string; score: number }[] }[];
    expect(lines.map((l) => l.query)).toEqual(queries);
    lines.forEach((line, i) => {
      expect(line.results).toHaveLength(5);
      expect(line.results[0]!.path).toBe(originals[i]);
      expect(line.results[0]!.score).toBeGreaterThan(line.results[1]!.score);
    });
  });

  it('indexes an unchanged folder again without decoding anything', () => {
    const r = doppel('index', PHOTOS, '--db', db, '--json');
    expect(r.status).toBe(0);
    const again = JSON.parse(r.stdout) as IndexJson;
    expect(again).toMatchObject({ added: 0, unchanged: first.scanned, photos: first.photos });
    // Not a timed test: the second run only stats files, a small fraction of the first run's work.
    expect(again.durationMs).toBeLessThan(first.durationMs / 3);
  });

  it('names each bad file with its reason in the --json summary and exits 0', () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'zero.jpg'), '');
    fs.writeFileSync(path.join(bad, 'text.png'), 'plain text, not a PNG\n');
    const jpeg = fs.readFileSync(
      path.join(PHOTOS, 'CSun_Hays80', fs.readdirSync(path.join(PHOTOS, 'CSun_Hays80')).sort()[0]!),
    );
    fs.writeFileSync(path.join(bad, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    fs.copyFileSync(
      path.join(PHOTOS, 'CSet14', fs.readdirSync(path.join(PHOTOS, 'CSet14')).sort()[0]!),
      path.join(bad, 'good.png'),
    );
    const r = doppel('index', bad, '--db', path.join(tmp, 'bad.sqlite'), '--json');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as IndexJson;
    const real = fs.realpathSync(bad);
    expect(summary.photos).toBe(1);
    expect(summary.errors.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: path.join(real, 'text.png'), reason: expect.stringMatching(/^Not a supported image/) as string },
      {
        path: path.join(real, 'truncated.jpg'),
        reason: expect.stringMatching(/^Corrupt or truncated image/) as string,
      },
      { path: path.join(real, 'zero.jpg'), reason: 'Empty file (0 bytes)' },
    ]);
  });

  it('writes a reconstruction PNG whose right half resembles its left half', async () => {
    const image = path.join(PHOTOS, 'CSet14', fs.readdirSync(path.join(PHOTOS, 'CSet14')).sort()[2]!);
    const out = path.join(tmp, 'recon', 'side-by-side.png');
    const r = doppel('reconstruct', image, '--out', out, '--scale', '4');
    expect(r.status).toBe(0);
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect(info.format).toBe('raw');
    const side = (info.width - 4) / 2;
    expect(info.height).toBe(side);
    const half = (x0: number): Uint8Array => {
      const out = new Uint8Array(side * side * 3);
      for (let y = 0; y < side; y++) {
        out.set(
          data.subarray((y * info.width + x0) * info.channels, (y * info.width + x0 + side) * info.channels),
          y * side * 3,
        );
      }
      return out;
    };
    const left = half(0);
    const right = half(side + 4);
    expect(std(right)).toBeGreaterThan(10); // not blank
    // Recognisably the same picture, if blurred. The default model (doppel-ae32d) draws from its code and a
    // detail code (docs/MODEL.md): 0.93 on this photo (0.87-0.98 over CSet14), where doppel-ae32c, whose decoder
    // reads the code alone, gave 0.68, doppel-ae32 0.79 and the seed 0.88. A broken decoder (blank, noise,
    // another picture) is near 0.
    expect(correlation(left, right)).toBeGreaterThan(0.85);
  });

  it('prints library info as JSON', () => {
    const r = doppel('info', '--db', db, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      photos: first.photos,
      errors: 0,
      folders: 1,
      backend: expect.stringMatching(/^(wasm|tensorflow)$/) as string,
      model: { dim: expect.any(Number) as number, inputSize: expect.any(Number) as number },
      dbPath: db,
    });
  });

  it('prints duplicate groups as JSON lines with the reference among the members', () => {
    const r = doppel('dupes', '--db', db, '--json');
    expect(r.status).toBe(0);
    for (const g of jsonLines(r.stdout) as { kind: string; reference: string; members: { path: string }[] }[]) {
      expect(['exact', 'near', 'similar']).toContain(g.kind);
      expect(g.members.map((m) => m.path)).toContain(g.reference);
    }
  });

  it('exits 2 on wrong usage and 1 with a one-line message on failure', () => {
    expect(doppel('similar').status).toBe(2);
    expect(doppel('no-such-command').status).toBe(2);
    const missing = doppel('similar', path.join(tmp, 'missing.jpg'), '--db', db);
    expect(missing.status).toBe(1);
    expect(
      missing.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('doppel:')),
    ).toEqual([`doppel: Cannot read ${path.join(tmp, 'missing.jpg')}: ENOENT`]);
  });
});
