// A bad-input corpus made here, indexed through the service (its worker thread) and listed by
// `doppel info --errors`: every problem file is recorded with its reason, nothing crashes, the rest is indexed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexSummary } from '../../src/shared/api.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { DATA, PHOTOS, REPO, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-bad-');
const root = path.join(tmp, 'corpus');
const db = path.join(tmp, 'library.sqlite');
const JPG = path.join(PHOTOS, 'CSun_Hays80', fs.readdirSync(path.join(PHOTOS, 'CSun_Hays80')).sort()[0]!);
const isRoot = process.getuid?.() === 0;
const TINY = 20_000;
const TINY_DISTINCT = 1000;

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A complete PNG: `rows` are the filtered scanlines (filter byte + pixels). */
function png(width: number, height: number, bitDepth: number, colourType: number, rows: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(bitDepth, 8);
  ihdr.writeUInt8(colourType, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An 8x8 RGB PNG whose pixels come from n (distinct files, distinct pictures). */
function tinyPng(n: number): Buffer {
  const rows = Buffer.alloc(8 * (1 + 8 * 3));
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const o = y * 25 + 1 + x * 3;
      rows[o] = (n * 7 + x * 31) & 255;
      rows[o + 1] = ((n >> 8) * 13 + y * 29) & 255;
      rows[o + 2] = (n * 3 + x * y * 5) & 255;
    }
  }
  return png(8, 8, 8, 2, rows);
}

/** What each problem file's reason must say. */
const problems = new Map<string, RegExp>();
const good = new Set<string>();
let summary: IndexSummary;
let deletedWhileScanning = '';
let deletedWhileIndexing = '';

async function makeCorpus(): Promise<void> {
  fs.mkdirSync(root, { recursive: true });
  const put = (name: string, data: Uint8Array | string, reason?: RegExp) => {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    if (reason) problems.set(file, reason);
    else good.add(file);
    return file;
  };
  const jpeg = fs.readFileSync(JPG);
  put('ok.jpg', jpeg);
  put('empty.jpg', '', /^Empty file \(0 bytes\)$/);
  put('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 3)), /^Corrupt or truncated image/);
  put('notes.jpg', 'These are not the pixels you are looking for.\n', /^Not a supported image/);
  // A decompression bomb: 30000 x 30000 pixels (1-bit grey, so the test can write it), over the pixel limit.
  const bombRows = Buffer.alloc(30_000 * (1 + 3750));
  put('bomb.png', png(30_000, 30_000, 1, 0, bombRows), /^Image too large \(30000 x 30000 pixels exceeds/);
  put('cmyk.jpg', await sharp(jpeg).resize(200).toColourspace('cmyk').jpeg().toBuffer());
  put('sixteen-bit.png', await sharp(jpeg).resize(200).toColourspace('rgb16').png().toBuffer());
  const frame = (c: string) =>
    sharp({ create: { width: 64, height: 48, channels: 3, background: c } })
      .png()
      .toBuffer();
  const frames = await Promise.all(['#c00', '#0c0', '#00c'].map(frame));
  put(
    'animated.gif',
    await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer(),
  );
  // Every EXIF orientation (landscape and portrait), and the odd files of the EXIF sample collection.
  for (const f of fs.readdirSync(path.join(DATA, 'exif-samples/jpg/orientation'))) {
    put(`orientation/${f}`, fs.readFileSync(path.join(DATA, 'exif-samples/jpg/orientation', f)));
  }
  fs.cpSync(path.join(DATA, 'exif-samples'), path.join(root, 'exif-samples'), { recursive: true });
  // An unreadable folder (root reads it anyway) and an unreadable file.
  const locked = put('locked/inside.jpg', jpeg);
  fs.chmodSync(path.dirname(locked), 0o000);
  if (!isRoot) {
    good.delete(locked);
    problems.set(path.dirname(locked), /^Permission denied$/);
  }
  const secret = put('secret.jpg', jpeg);
  fs.chmodSync(secret, 0o000);
  if (!isRoot) {
    good.delete(secret);
    problems.set(secret, /^Permission denied$/);
  }
  // A symbolic link loop (links are not followed by default), and a dangling link.
  fs.symlinkSync('.', path.join(root, 'loop'));
  fs.symlinkSync(path.join(root, 'nowhere.jpg'), path.join(root, 'dangling.jpg'));
  // A name that is not UTF-8 (Latin-1 "café.jpg").
  const latin1 = Buffer.concat([Buffer.from(root + '/caf'), Buffer.from([0xe9]), Buffer.from('.jpg')]);
  fs.writeFileSync(latin1, jpeg);
  problems.set(path.join(root, 'caf\uFFFD.jpg'), /not valid UTF-8/);
  // Files deleted while the run is under way.
  deletedWhileScanning = put('zz-deleted-while-scanning/gone.jpg', jpeg);
  deletedWhileIndexing = put('zzz-deleted-while-indexing.jpg', await sharp(jpeg).resize(300).jpeg().toBuffer());
  // A folder of 20,000 tiny images: 1,000 different pictures, each in 20 files (copies are read and hashed, and
  // take their vector from the first one indexed instead of being decoded again; this keeps the test short).
  const tiny = path.join(root, 'tiny');
  fs.mkdirSync(tiny);
  for (let i = 0; i < TINY; i++) {
    fs.writeFileSync(path.join(tiny, `t${String(i).padStart(5, '0')}.png`), tinyPng(i % TINY_DISTINCT));
  }
}

beforeAll(async () => {
  await makeCorpus();
  const service = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
  try {
    const folder = await service.addFolder(root);
    service.on('progress', (p) => {
      if (p.phase === 'scan' && fs.existsSync(deletedWhileScanning)) fs.rmSync(deletedWhileScanning);
      if (p.phase === 'index' && fs.existsSync(deletedWhileIndexing)) fs.rmSync(deletedWhileIndexing);
    });
    summary = await service.indexFolders([folder]);
  } finally {
    await service.close();
    fs.chmodSync(path.join(root, 'locked'), 0o755);
  }
}, 900_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function doppel(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'doppel.js'), ...args, '--db', db], {
    encoding: 'utf8',
    env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bad input', () => {
  it('lists every problem file with its reason in `doppel info --errors`', () => {
    const r = doppel('info', '--errors', '--json');
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as {
      photos: number;
      errors: number;
      errorFiles: { path: string; reason: string }[];
    };
    const listed = new Map(info.errorFiles.map((e) => [e.path, e.reason]));
    for (const [file, reason] of problems) {
      expect(listed.get(file), file).toMatch(reason);
    }
    expect(info.errors).toBe(info.errorFiles.length);
    // Only the sample collection's own broken files are listed besides the corpus's problems, each with a reason.
    for (const [file, reason] of listed) {
      if (problems.has(file)) continue;
      expect(file, reason).toContain(`${root}/exif-samples/`);
      expect(reason.length).toBeGreaterThan(5);
    }
    // The plain listing shows the same files.
    const text = doppel('info', '--errors');
    expect(text.status).toBe(0);
    for (const file of problems.keys()) expect(text.stdout).toContain(file);
  });

  it('indexes everything else, the symbolic links skipped and the deleted files gone', () => {
    const r = doppel('info', '--errors', '--json');
    const info = JSON.parse(r.stdout) as { photos: number; errorFiles: { path: string }[] };
    const conn = spawnSync(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(process.argv[1],{readonly:true});` +
          `console.log(JSON.stringify(d.prepare("SELECT path FROM photos WHERE status='indexed'").pluck().all()))`,
        db,
      ],
      { encoding: 'utf8', cwd: REPO },
    );
    const indexed = new Set(JSON.parse(conn.stdout) as string[]);
    for (const file of good) {
      if (file === deletedWhileScanning || file === deletedWhileIndexing) continue;
      expect(indexed.has(file), file).toBe(true);
    }
    expect(indexed.has(deletedWhileScanning)).toBe(false);
    expect(indexed.has(deletedWhileIndexing)).toBe(false);
    const tiny = [...indexed].filter((p) => p.startsWith(path.join(root, 'tiny') + '/'));
    expect(tiny).toHaveLength(TINY);
    expect(summary.added).toBeGreaterThan(TINY);
    // Every EXIF sample is either indexed or listed with a reason; none is lost.
    const samples = fs
      .readdirSync(path.join(root, 'exif-samples'), { recursive: true })
      .map((f) => path.join(root, 'exif-samples', String(f)))
      .filter((f) => fs.statSync(f).isFile());
    const errors = new Set(info.errorFiles.map((e) => e.path));
    for (const f of samples) expect(indexed.has(f) || errors.has(f), f).toBe(true);
    // Nothing through the symbolic links.
    expect([...indexed].some((p) => p.includes('/loop/') || p.endsWith('dangling.jpg'))).toBe(false);
    expect(info.photos).toBe(indexed.size);
    expect(summary.scanned).toBeGreaterThan(TINY);
  });
});
