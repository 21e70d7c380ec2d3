// A library with camera RAW files (DNGs written by code around real photos' previews), the JPEGs shot with them,
// a motion photo and a live photo pair, indexed by the real service with the shipped model: RAW + JPEG pairs are
// exact pairs that keep the RAW, a RAW is shown through its thumbnail, a RAW without a preview is listed with its
// reason, and a motion photo or a live photo's video is neither an error nor a duplicate.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicateGroup } from '../../src/shared/api.js';
import { formatLabel } from '../../src/shared/formats.js';
import { resolveMedia, resolveOriginal } from '../../src/core/media.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { bayer, makeDng, previewJpeg } from '../fixtures/raw-files.js';
import { DATA, PHOTOS, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-raw-pairs-');
const lib = path.join(tmp, 'library');
const at = (...p: string[]) => path.join(lib, ...p);
const SHOT = path.join(PHOTOS, 'CSun_Hays80/abbey_sun_asztnlqhlrvirneh.jpg');
const OTHER = path.join(PHOTOS, 'CSun_Hays80/aqueduct_sun_ancegghzusmmvzjn.jpg');
let service: DoppelService;
let groups: DuplicateGroup[];

beforeAll(async () => {
  fs.mkdirSync(at('card'), { recursive: true });
  fs.mkdirSync(at('phone'), { recursive: true });
  const cfa = { data: await bayer(SHOT, 128, 100), width: 128, height: 100 };
  // The camera's RAW (a 640 px preview, as many cameras embed) and its full-size JPEG of the same shot.
  fs.writeFileSync(at('card', 'IMG_0042.DNG'), makeDng({ preview: await previewJpeg(SHOT, 640), cfa }));
  fs.copyFileSync(SHOT, at('card', 'img_0042.jpg'));
  // The same picture as a RAW and a JPEG by other names: not a pair by name.
  const otherCfa = { data: await bayer(OTHER, 128, 100), width: 128, height: 100 };
  fs.writeFileSync(at('card', 'DSC_0007.dng'), makeDng({ preview: await previewJpeg(OTHER, 640), cfa: otherCfa }));
  fs.copyFileSync(OTHER, at('card', 'holiday.jpg'));
  // A RAW with no preview.
  fs.writeFileSync(at('card', 'IMG_0043.dng'), makeDng({ preview: null, cfa }));
  // A motion photo: a JPEG with a video appended after its end (an MP4's ftyp box and some bytes).
  const mp4 = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0mp42isom', 'latin1'), Buffer.alloc(4096, 7)]);
  const still = await sharp(path.join(PHOTOS, 'CBSD68/101085.png')).jpeg().toBuffer();
  fs.writeFileSync(at('phone', 'PXL_20240101_MP.jpg'), Buffer.concat([still, mp4]));
  // A live photo: the HEIC and its video of the same name.
  fs.copyFileSync(path.join(DATA, 'exif-samples/heic/IMG_5195.HEIC'), at('phone', 'IMG_1234.HEIC'));
  fs.writeFileSync(at('phone', 'IMG_1234.MOV'), mp4);
  service = await DoppelService.open({ dbPath: path.join(tmp, 'db', 'library.sqlite'), modelsDir: defaultModelsDir() });
  await service.addFolder(lib);
  await service.indexAll();
  groups = await service.findDuplicates({ kinds: ['exact', 'near'] });
}, 120_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const photoAt = async (p: string) => (await service.listPhotos({ limit: 100 })).photos.find((x) => x.path === p);

describe('RAW files in a library', () => {
  it('indexes RAWs from their previews and lists the one without a preview with its reason', async () => {
    const dng = await photoAt(at('card', 'IMG_0042.DNG'));
    expect(dng).toMatchObject({ format: 'raw', width: 640, height: 500, status: 'indexed' });
    expect(await service.listErrors()).toEqual([
      {
        path: at('card', 'IMG_0043.dng'),
        reason: "Camera RAW without a preview Doppel can read (it indexes RAW files through the camera's JPEG preview)",
      },
    ]);
  });

  it('pairs a RAW with the JPEG of the same name as an exact pair, "RAW + JPEG", keeping the RAW', () => {
    const pair = groups.find((g) => g.members.some((m) => m.path === at('card', 'IMG_0042.DNG')));
    expect(pair).toMatchObject({ kind: 'exact', keeper: at('card', 'IMG_0042.DNG') });
    expect(pair!.members.map((m) => [path.basename(m.path), m.keep, m.edits])).toEqual([
      ['IMG_0042.DNG', true, []],
      ['img_0042.jpg', false, ['RAW + JPEG']],
    ]);
    // What the app and `doppel dupes` show of the RAW.
    expect(formatLabel(pair!.members[0]!.format)).toBe("RAW, from the camera's preview");
    // The JPEG is larger (1024 x 800 against the 640 px preview): the pair keeps the RAW all the same.
    expect(pair!.members[1]).toMatchObject({ width: 1024, height: 800, format: 'jpeg' });
  });

  it('does not pair a RAW and a JPEG by name when their names differ', () => {
    const withRaw = groups.filter((g) => g.members.some((m) => m.path === at('card', 'DSC_0007.dng')));
    for (const g of withRaw) {
      expect(g.kind).not.toBe('exact');
      for (const m of g.members) expect(m.edits).not.toContain('RAW + JPEG');
    }
  });

  it('shows a RAW through its thumbnail, never the RAW file, and opens the RAW itself', async () => {
    const dng = (await photoAt(at('card', 'IMG_0042.DNG')))!;
    const media = service.mediaLibrary();
    const shown = resolveMedia(media, 'original', dng.id)!;
    expect(shown).toEqual(resolveMedia(media, 'thumb', dng.id));
    expect(shown.contentType).toBe('image/jpeg');
    expect(resolveOriginal(media, dng.id)!.path).toBe(fs.realpathSync(at('card', 'IMG_0042.DNG')));
    const jpeg = (await photoAt(at('card', 'img_0042.jpg')))!;
    expect(resolveMedia(media, 'original', jpeg.id)!.path).toBe(fs.realpathSync(at('card', 'img_0042.jpg')));
  });

  it('indexes a motion photo as one photo, and passes over a live photo video: no error, no duplicate', async () => {
    expect(await photoAt(at('phone', 'PXL_20240101_MP.jpg'))).toMatchObject({ format: 'jpeg', status: 'indexed' });
    expect(await photoAt(at('phone', 'IMG_1234.HEIC'))).toMatchObject({ format: 'heif', status: 'indexed' });
    const all = (await service.listPhotos({ limit: 100 })).photos.map((p) => path.relative(lib, p.path));
    expect(all.filter((p) => p.startsWith('phone'))).toEqual([
      path.join('phone', 'IMG_1234.HEIC'),
      path.join('phone', 'PXL_20240101_MP.jpg'),
    ]);
    const inGroups = groups.flatMap((g) => g.members.map((m) => m.path));
    expect(inGroups).not.toContain(at('phone', 'IMG_1234.HEIC'));
    expect(inGroups).not.toContain(at('phone', 'PXL_20240101_MP.jpg'));
  });
});
