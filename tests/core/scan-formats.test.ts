// What a scan does with the formats Doppel reads beside libvips (BMP, Netpbm: made here from a real photo), with
// image files it cannot decode (TGA, Photoshop), and with library folders inside the folder it scans.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanFolder, type ScanEvent } from '../../src/core/library/scan.js';
import { copyInto, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-scan-formats-');
let ppm: Buffer;
let bmp: Buffer;

beforeAll(async () => {
  const { data, info } = await sharp(photos('CBSD68', 1)[0]!)
    .resize(16, 16)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  ppm = Buffer.concat([Buffer.from(`P6\n${info.width} ${info.height}\n255\n`), data]);
  // A 24-bit BMP: file header, BITMAPINFOHEADER, bottom-up BGR rows padded to 4 bytes.
  const row = Math.ceil((info.width * 3) / 4) * 4;
  bmp = Buffer.alloc(54 + row * info.height);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(bmp.length, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(info.width, 18);
  bmp.writeInt32LE(info.height, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const src = (y * info.width + x) * 3;
      const dst = 54 + (info.height - 1 - y) * row + x * 3;
      bmp[dst] = data[src + 2]!;
      bmp[dst + 1] = data[src + 1]!;
      bmp[dst + 2] = data[src]!;
    }
  }
  copyInto(photos('CBSD68', 1), tmp);
  fs.writeFileSync(path.join(tmp, 'scan.bmp'), bmp);
  fs.writeFileSync(path.join(tmp, 'frame.ppm'), ppm);
  fs.writeFileSync(path.join(tmp, 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(tmp, 'logo.tga'), Buffer.alloc(18));
  fs.writeFileSync(path.join(tmp, 'layers.PSD'), Buffer.from('8BPS'));
  copyInto(photos('CSun_Hays80', 2), path.join(tmp, 'inner'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function collect(root: string, skipDirs?: ReadonlySet<string>): Promise<ScanEvent[]> {
  const out: ScanEvent[] = [];
  for await (const e of scanFolder(root, { skipDirs })) out.push(e);
  return out;
}

describe('scanning', () => {
  it('yields BMP and Netpbm files as photos, and reports the formats it cannot read as not indexed, with the reason', async () => {
    // sharp's prebuilt libvips reads neither: Doppel decodes them itself (tests/core/formats.test.ts).
    await expect(sharp(bmp).metadata()).rejects.toThrow(/unsupported image format/);
    await expect(sharp(ppm).metadata()).rejects.toThrow(/unsupported image format/);
    const events = await collect(tmp);
    const files = events.filter((e) => e.type === 'file').map((e) => path.basename(e.path));
    expect(files).toEqual(expect.arrayContaining(['frame.ppm', 'scan.bmp']));
    expect(events.filter((e) => e.type === 'error')).toEqual([
      {
        type: 'error',
        path: path.join(tmp, 'layers.PSD'),
        reason: expect.stringMatching(
          /^Unsupported format: Photoshop \(Doppel reads JPEG, PNG, .*camera RAW/,
        ) as string,
      },
      {
        type: 'error',
        path: path.join(tmp, 'logo.tga'),
        reason: expect.stringMatching(/^Unsupported format: TGA \(/) as string,
      },
    ]);
  });

  it('passes over library folders inside the one it scans', async () => {
    const files = (all: ScanEvent[]) => all.filter((e) => e.type === 'file').map((e) => path.relative(tmp, e.path));
    expect(files(await collect(tmp))).toHaveLength(5);
    expect(files(await collect(tmp, new Set([path.join(tmp, 'inner')])))).toEqual([
      path.basename(photos('CBSD68', 1)[0]!),
      'frame.ppm',
      'scan.bmp',
    ]);
  });
});
