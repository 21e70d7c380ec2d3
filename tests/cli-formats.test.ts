// The built CLI on a folder of every kind of file the format work touches: `doppel index` reads BMP, Netpbm,
// JPEG XL and camera RAW (files written here from real photos), `doppel info --errors` names each format it still
// cannot read and why, and `doppel dupes` shows a RAW + JPEG pair that keeps the RAW.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bayer, makeDng, previewJpeg } from './fixtures/raw-files.js';
import { PHOTOS, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-cli-formats-');
const db = path.join(tmp, 'library.sqlite');
const lib = path.join(tmp, 'library');
const at = (name: string) => path.join(lib, name);
const SHOT = path.join(PHOTOS, 'CSun_Hays80/abbey_sun_asztnlqhlrvirneh.jpg');

function doppel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--db', db], {
    encoding: 'utf8',
    env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'doppel-home') },
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  fs.mkdirSync(lib);
  const { data, info } = await sharp(path.join(PHOTOS, 'CBSD68/101085.png'))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  fs.writeFileSync(at('scan.ppm'), Buffer.concat([Buffer.from(`P6\n${info.width} ${info.height}\n255\n`), data]));
  const cfa = { data: await bayer(SHOT, 64, 50), width: 64, height: 50 };
  // The camera held sideways: the preview is stored turned, and orientation 8 says to turn it back.
  const sideways = await sharp(await previewJpeg(SHOT, 640))
    .rotate(90)
    .jpeg()
    .toBuffer();
  fs.writeFileSync(at('IMG_0042.DNG'), makeDng({ preview: sideways, cfa, orientation: 8 }));
  fs.copyFileSync(SHOT, at('IMG_0042.JPG'));
  fs.writeFileSync(at('IMG_0043.NEF'), makeDng({ preview: null, cfa }));
  // Formats Doppel does not read: a scan names them without opening them.
  for (const name of ['logo.tga', 'icon.ico', 'scan.jp2', 'layers.psd', 'light.exr']) fs.writeFileSync(at(name), 'x');
  fs.writeFileSync(at('cut.bmp'), Buffer.from('BM'));
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel and the image formats', () => {
  it('indexes what it reads and names every file it cannot read with the reason', () => {
    expect(doppel('index', lib).status).toBe(0);
    const r = doppel('info', '--errors', '--json');
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as { photos: number; errorFiles: { path: string; reason: string }[] };
    expect(info.photos).toBe(3);
    const reads = 'Doppel reads JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC/HEIF, JPEG XL, BMP, Netpbm and camera RAW';
    const unsupported = (format: string) =>
      expect.stringContaining(`Unsupported format: ${format} (${reads}`) as string;
    expect(info.errorFiles.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: at('cut.bmp'), reason: 'Corrupt or truncated BMP image (2 bytes, less than its header)' },
      { path: at('icon.ico'), reason: unsupported('ICO') },
      {
        path: at('IMG_0043.NEF'),
        reason: "Camera RAW without a preview Doppel can read (it indexes RAW files through the camera's JPEG preview)",
      },
      { path: at('layers.psd'), reason: unsupported('Photoshop') },
      { path: at('light.exr'), reason: unsupported('OpenEXR') },
      { path: at('logo.tga'), reason: unsupported('TGA') },
      { path: at('scan.jp2'), reason: unsupported('JPEG 2000') },
    ]);
    // The text form lists the same, one line each.
    const text = doppel('info', '--errors').stdout;
    for (const e of info.errorFiles) expect(text).toContain(`  ! ${e.path}: ${e.reason}`);
  }, 300_000);

  it('shows the RAW + JPEG pair, keeping the RAW, read upright from its preview', () => {
    const r = doppel('dupes');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      [
        `exact (keep ${at('IMG_0042.DNG')})`,
        `  keep 100.00%  ${at('IMG_0042.DNG')}  (reference, RAW, from the camera's preview)`,
        `       100.00%  ${at('IMG_0042.JPG')}`,
        '                RAW + JPEG',
      ].join('\n'),
    );
    // One JSON object a group, a line each.
    const groups = doppel('dupes', '--json')
      .stdout.split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            members: { path: string; width: number; height: number; format: string; edits: string[] }[];
          },
      );
    expect(groups[0]!.members).toMatchObject([
      { path: at('IMG_0042.DNG'), width: 640, height: 500, format: 'raw', edits: [] },
      { path: at('IMG_0042.JPG'), width: 1024, height: 800, format: 'jpeg', edits: ['RAW + JPEG'] },
    ]);
  }, 300_000);
});
