// The duplicate review on real photos, through the service as `doppel dupes` uses it: a library of distinct photos
// has no near duplicates; planted copies of each kind are verified as near duplicates with what was done to them,
// rotated ones included, and lose the keeper choice to their original.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicateGroup } from '../../src/shared/api.js';
import { ATTACKS, decodeOriginal } from '../../src/core/eval/attacks.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, photos, tempDir } from '../helpers.js';

const attack = (id: string) => ATTACKS.find((a) => a.id === id)!;
const raw = (img: { data: Buffer; width: number; height: number }) =>
  sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

/** Each planted edit: how the copy is made from the original's bytes, and a word the verifier must say of it. */
const EDITS: { id: string; ext: string; says: RegExp; make: (bytes: Buffer) => Promise<Buffer> }[] = [
  { id: 'resave', ext: 'jpg', says: /re-encoded/, make: async (b) => sharp(b).jpeg({ quality: 70 }).toBuffer() },
  { id: 'png', ext: 'png', says: /saved as PNG/, make: async (b) => sharp(b).png().toBuffer() },
  {
    id: 'resize',
    ext: 'jpg',
    says: /resized to/,
    make: async (b) => attack('resize25').apply(await decodeOriginal(b)),
  },
  { id: 'flip', ext: 'jpg', says: /mirrored/, make: async (b) => attack('flip').apply(await decodeOriginal(b)) },
  { id: 'grey', ext: 'jpg', says: /greyscale/, make: async (b) => attack('grey').apply(await decodeOriginal(b)) },
  {
    id: 'bright',
    ext: 'jpg',
    says: /brighter/,
    make: async (b) => attack('bright30').apply(await decodeOriginal(b)),
  },
  {
    id: 'crop',
    ext: 'jpg',
    says: /cropped to 8\d%/,
    make: async (b) => attack('crop80').apply(await decodeOriginal(b)),
  },
  {
    id: 'border',
    ext: 'jpg',
    says: /border added/,
    make: async (b) => attack('border10').apply(await decodeOriginal(b)),
  },
  {
    // Straightened by a few degrees and cut to the rectangle inside: its corners must not read as a border.
    id: 'rotate8',
    ext: 'jpg',
    says: /rotated 8° clockwise/,
    make: async (b) => attack('rotate8').apply(await decodeOriginal(b)),
  },
  {
    id: 'rot90',
    ext: 'jpg',
    says: /rotated 90°/,
    make: async (b) =>
      raw(await decodeOriginal(b))
        .rotate(90)
        .jpeg({ quality: 90 })
        .toBuffer(),
  },
  {
    id: 'rot180',
    ext: 'jpg',
    says: /rotated 180°/,
    make: async (b) =>
      raw(await decodeOriginal(b))
        .rotate(180)
        .jpeg({ quality: 90 })
        .toBuffer(),
  },
  {
    // Shown turned by its EXIF orientation alone (6: turn 90° clockwise to display), as phones write them.
    id: 'exif-turn',
    ext: 'jpg',
    says: /rotated 90°/,
    make: async (b) => sharp(b).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
  },
];

describe('verified duplicate review', () => {
  const tmp = tempDir('doppel-verify-');
  const lib = path.join(tmp, 'library');
  const copies = path.join(tmp, 'copies', '2024');
  const db = path.join(tmp, 'library.sqlite');
  let service: DoppelService;
  /** Copy path -> [original path, edit]. */
  const planted = new Map<string, [string, (typeof EDITS)[number]]>();
  let distinct: string[];
  /** Two frames panned across one scene (a photo not otherwise in the library): each shows what the other lacks. */
  const pans = [path.join(lib, 'pan-left.jpg'), path.join(lib, 'pan-right.jpg')];

  beforeAll(async () => {
    // Distinct photos: scenes, and the Berkeley photos (many of them alike: animals, people, buildings).
    distinct = copyInto([...photos('CSun_Hays80', 40), ...photos('CBSD68', 40)], lib);
    const scene = photos('CSun_Hays80', 60).at(-1)!;
    const meta = await sharp(scene).metadata();
    const [w, h] = [meta.width!, meta.height!];
    const frame = Math.round(w * 0.85);
    for (const [i, file] of pans.entries()) {
      const left = i === 0 ? 0 : w - frame;
      await sharp(scene).extract({ left, top: 0, width: frame, height: h }).jpeg({ quality: 92 }).toFile(file);
    }
    fs.mkdirSync(copies, { recursive: true });
    const originals = distinct.filter((f) => f.endsWith('.jpg')).slice(0, EDITS.length);
    const later = Date.now() / 1000 + 86_400;
    for (const [i, edit] of EDITS.entries()) {
      const original = originals[i]!;
      const copy = path.join(copies, `IMG_${String(2000 + i)}.${edit.ext}`);
      fs.writeFileSync(copy, await edit.make(fs.readFileSync(original)));
      fs.utimesSync(copy, later, later);
      planted.set(copy, [original, edit]);
    }
    service = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
    await service.addFolder(lib);
    await service.addFolder(path.dirname(copies));
    const summary = await service.indexAll();
    expect(summary.errors).toEqual([]);
  }, 240_000);
  afterAll(async () => {
    await service?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const groupOf = (groups: DuplicateGroup[], file: string) =>
    groups.find((g) => g.members.some((m) => m.path === file));

  it('groups every planted copy with its original, says what was done, and keeps the original', async () => {
    const groups = await service.findDuplicates({ kinds: ['exact', 'near'] });
    for (const [copy, [original, edit]] of planted) {
      const group = groupOf(groups, copy);
      expect({ edit: edit.id, kind: group?.kind, members: group?.members.map((m) => m.path).sort() }).toEqual({
        edit: edit.id,
        kind: 'near',
        members: [copy, original].sort(),
      });
      expect({ edit: edit.id, keeper: group!.keeper }).toEqual({ edit: edit.id, keeper: original });
      const member = group!.members.find((m) => m.path === copy)!;
      expect(member.keep).toBe(false);
      expect(`${edit.id}: ${member.edits.join(', ')}`).toMatch(new RegExp(`^${edit.id}: .*${edit.says.source}`));
    }
  }, 240_000);

  it('puts no two distinct photos in the exact or near tier, and shows look-alikes only as such', async () => {
    const copiesAndOriginals = new Set([...planted.keys(), ...[...planted.values()].map(([o]) => o)]);
    const groups = await service.findDuplicates({ kinds: ['exact', 'near', 'similar'] });
    const wrong = groups
      .filter((g) => g.kind !== 'similar')
      .filter((g) => g.members.some((m) => !copiesAndOriginals.has(m.path)))
      .map((g) => g.members.map((m) => path.basename(m.path)));
    expect(wrong).toEqual([]);
    // The panned frames share 70% of the scene's width: look-alikes, never near duplicates.
    const panned = groupOf(groups, pans[0]!);
    expect(panned?.kind).toBe('similar');
    expect(panned?.members.map((m) => m.path)).toContain(pans[1]);
    // Look-alikes carry no verifier words: nobody called them the same picture.
    for (const g of groups.filter((x) => x.kind === 'similar')) for (const m of g.members) expect(m.edits).toEqual([]);
  }, 240_000);

  it('measures each pair once: a second scan reads the verdicts from the library', async () => {
    const first = await service.findDuplicates({ kinds: ['exact', 'near'] });
    const seen = service.lastVerification!;
    expect(seen.fresh + seen.cached).toBeGreaterThanOrEqual(planted.size);
    const again = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
    try {
      // Searching again (not reading the first scan's groups back, as an unchanged library's next scan does).
      expect(await again.findDuplicates({ kinds: ['exact', 'near'], rescan: true })).toEqual(first);
      expect(again.lastVerification).toEqual({ fresh: 0, cached: seen.fresh + seen.cached, skipped: seen.skipped });
    } finally {
      await again.close();
    }
  }, 240_000);
});
