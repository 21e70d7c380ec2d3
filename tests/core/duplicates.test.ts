// The duplicate review end to end on real photos, the shipped model and real SQLite files: a library with
// planted exact copies and edited copies (resized to 60%, JPEG quality 60, 10% brighter) of some photos from
// ../shared/data/photos, the rest distinct. Moving to the trash uses the real freedesktop trash of a temporary
// HOME (set before anything moves: the `trash` package reads it once).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicateGroup, DuplicateKind } from '../../src/shared/api.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { PHOTOS, tempDir, useTempTrash } from '../helpers.js';

const tmp = tempDir('doppel-dupes-');
const TRASH = useTempTrash(tmp);
const lib = path.join(tmp, 'library');
const FOLDERS = ['a', 'b', 'copies', 'ref'] as const;

type Edit = 'copy' | 'resized' | 'q60' | 'bright';
interface Planted {
  original: string;
  copy: string;
  edit: Edit;
}
const planted: Planted[] = [];
/** Library path -> the original photo it comes from (itself for an original). */
const origin = new Map<string, string>();
let service: DoppelService;
let near: number;
let calibration: string;

async function writeEdit(src: string, dest: string, edit: Exclude<Edit, 'copy'>): Promise<void> {
  const meta = await sharp(src).metadata();
  const format = meta.format === 'png' ? 'png' : 'jpeg';
  if (edit === 'resized') {
    await sharp(src)
      .resize(Math.round(meta.width! * 0.6))
      .toFormat(format)
      .toFile(dest);
  } else if (edit === 'q60') await sharp(src).jpeg({ quality: 60 }).toFile(dest);
  else await sharp(src).modulate({ brightness: 1.1 }).toFormat(format).toFile(dest);
}

/** Every 5th photo of the data set: 33 originals across its three folders. */
function pickOriginals(): string[] {
  const all = ['CSun_Hays80', 'CBSD68', 'CSet14'].flatMap((d) =>
    fs
      .readdirSync(path.join(PHOTOS, d))
      .sort()
      .map((f) => path.join(PHOTOS, d, f)),
  );
  return all.filter((_, i) => i % 5 === 0);
}

async function buildLibrary(): Promise<void> {
  for (const f of FOLDERS) fs.mkdirSync(path.join(lib, f), { recursive: true });
  const originals = pickOriginals();
  const edits: Exclude<Edit, 'copy'>[] = ['resized', 'q60', 'bright'];
  for (const [i, src] of originals.entries()) {
    const { name, ext } = path.parse(src);
    const original = path.join(lib, i % 2 ? 'b' : 'a', `${name}${ext}`);
    fs.copyFileSync(src, original);
    origin.set(original, original);
    const plant = (copy: string, edit: Edit): void => {
      planted.push({ original, copy, edit });
      origin.set(copy, original);
    };
    if (i < 6) {
      // exact copies; the first one also lies in the reference folder
      const copy = path.join(lib, 'copies', `${name}-copy${ext}`);
      fs.copyFileSync(src, copy);
      plant(copy, 'copy');
      if (i === 0) {
        const ref = path.join(lib, 'ref', `${name}${ext}`);
        fs.copyFileSync(src, ref);
        plant(ref, 'copy');
      }
    } else if (i < 15) {
      const edit = edits[i % 3]!;
      const copy = path.join(lib, 'copies', `${name}-${edit}${edit === 'q60' ? '.jpg' : ext}`);
      await writeEdit(src, copy, edit);
      plant(copy, edit);
    } else if (i < 18) {
      for (const edit of edits) {
        const copy = path.join(lib, 'copies', `${name}-${edit}${edit === 'q60' ? '.jpg' : ext}`);
        await writeEdit(src, copy, edit);
        plant(copy, edit);
      }
    }
  }
}

async function openIndexed(dbName: string, order: readonly string[]): Promise<DoppelService> {
  const s = await DoppelService.open({ dbPath: path.join(tmp, dbName), modelsDir: defaultModelsDir() });
  for (const f of order) await s.indexFolders([await s.addFolder(path.join(lib, f))]);
  return s;
}

const idOf = (s: DoppelService, file: string): number => s.store.getPhotoByPath(file)!.id;

/** Cosine similarity of two library photos, as the index computes it. */
async function similarity(s: DoppelService, a: string, b: string): Promise<number> {
  const total = (await s.info()).photos;
  const hit = (await s.similarToPhoto(idOf(s, a), total)).find((r) => r.photo.path === b);
  return hit!.score;
}

const withoutIds = (groups: DuplicateGroup[]) =>
  groups.map((g) => ({ ...g, members: g.members.map(({ photoId: _id, ...m }) => m) }));
const groupOf = (groups: DuplicateGroup[], file: string) => groups.find((g) => g.members.some((m) => m.path === file));

beforeAll(async () => {
  await buildLibrary();
  service = await openIndexed('library.sqlite', FOLDERS);
  expect((await service.info()).photos).toBe(origin.size);
  // Thresholds: the model card's when every edited copy reaches its near threshold; otherwise (an early model
  // without calibrated thresholds) the lowest similarity of an original to its edited copy, less a margin of
  // 0.001. Doppel's fallback (0.97) is not calibrated for any model and is not used here.
  const scores = await Promise.all(
    planted.filter((p) => p.edit !== 'copy').map((p) => similarity(service, p.original, p.copy)),
  );
  const lowest = Math.min(...scores);
  const card = service.model.card.thresholds;
  near = card && lowest >= card.near ? card.near : lowest - 0.001;
  calibration = card && near === card.near ? `model card (${near})` : `lowest edited pair ${lowest} - 0.001`;
}, 300_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('duplicate groups on real photos', () => {
  it('finds every planted pair in one group of the right kind and never joins two distinct originals', async () => {
    const groups = await service.findDuplicates({
      kinds: ['exact', 'near'],
      nearThreshold: near,
      similarThreshold: near,
    });
    for (const p of planted) {
      const g = groupOf(groups, p.copy);
      const where = `${path.basename(p.copy)} (${p.edit}; near threshold from ${calibration})`;
      expect(g, where).toBeDefined();
      expect(
        g!.members.map((m) => m.path),
        where,
      ).toContain(p.original);
      expect(g!.kind, where).toBe(p.edit === 'copy' ? 'exact' : 'near');
    }
    for (const g of groups) {
      expect(new Set(g.members.map((m) => origin.get(m.path))).size, `group of ${g.reference}`).toBe(1);
    }
    // Nothing but the planted copies is grouped.
    expect(groups.flatMap((g) => g.members).length).toBe(planted.length + new Set(planted.map((p) => p.original)).size);
    // The keeper is the original where it is the better file: more pixels, or PNG/bigger against JPEG quality 60.
    // (Not asserted for the groups of three edits: a brightened copy re-encoded at a higher quality is a bigger file
    // than its original, and file size comes before the capture date in the default rules.)
    const single = planted.filter((x) => planted.filter((y) => y.original === x.original).length === 1);
    for (const p of single.filter((x) => x.edit === 'resized' || x.edit === 'q60')) {
      expect(groupOf(groups, p.copy)!.keeper, p.copy).toBe(p.original);
    }
  });

  it('keeps every member within the tier threshold of its reference, at several thresholds', async () => {
    for (const t of [near, near - 0.002, near - 0.01, near - 0.03]) {
      const similar = t - 0.02;
      const groups = await service.findDuplicates({
        kinds: ['exact', 'near', 'similar'],
        nearThreshold: t,
        similarThreshold: similar,
      });
      const seen = new Set<string>();
      for (const g of groups) {
        expect(g.members[0]!.path).toBe(g.reference);
        for (const m of g.members) {
          expect(seen.has(m.path), `${m.path} is in two groups`).toBe(false);
          seen.add(m.path);
          if (m.path === g.reference) continue;
          const score = g.kind === 'exact' ? 1 : await similarity(service, g.reference, m.path);
          const threshold: Record<DuplicateKind, number> = { exact: 1, near: t, similar };
          expect(score, `${m.path} against ${g.reference}`).toBeGreaterThanOrEqual(threshold[g.kind] - 1e-6);
          expect(m.score).toBeCloseTo(score, 5);
        }
      }
    }
  });

  it('gives the same groups when the same photos are indexed in another order', async () => {
    const other = await openIndexed('reversed.sqlite', [...FOLDERS].reverse());
    try {
      const ids = (s: DoppelService) =>
        FOLDERS.map((f) =>
          idOf(
            s,
            [...origin.keys()].find((p) => p.includes(`/${f}/`))!,
          ),
        );
      expect(ids(other)).not.toEqual(ids(service)); // really another order
      for (const t of [near, near - 0.01, near - 0.03]) {
        const query = {
          kinds: ['exact', 'near', 'similar'] as DuplicateKind[],
          nearThreshold: t,
          similarThreshold: t - 0.02,
        };
        expect(withoutIds(await other.findDuplicates(query))).toEqual(withoutIds(await service.findDuplicates(query)));
      }
    } finally {
      await other.close();
    }
  }, 300_000);

  it('remembers "not a duplicate" by content hash, through a rename and a new index run', async () => {
    const p = planted.find((x) => x.edit === 'q60')!;
    const query = { kinds: ['exact', 'near'] as DuplicateKind[], nearThreshold: near, similarThreshold: near };
    await service.markNotDuplicate(idOf(service, p.original), idOf(service, p.copy));
    expect(groupOf(await service.findDuplicates(query), p.copy)).toBeUndefined();
    const renamed = p.copy.replace(/\.jpg$/, '-renamed.jpg');
    fs.renameSync(p.copy, renamed);
    await service.indexAll();
    const groups = await service.findDuplicates(query);
    expect(groupOf(groups, renamed)).toBeUndefined();
    expect(groupOf(groups, p.original)).toBeUndefined();
    await service.clearNotDuplicate(idOf(service, p.original), idOf(service, renamed));
    expect(groupOf(await service.findDuplicates(query), renamed)!.members.map((m) => m.path)).toContain(p.original);
    fs.renameSync(renamed, p.copy);
    await service.indexAll();
  }, 120_000);

  it('always keeps photos of a reference folder and refuses to move them', async () => {
    const refFolder = (await service.listFolders()).find((f) => f.path === path.join(lib, 'ref'))!;
    await service.setReferenceFolder(refFolder.id, true);
    try {
      const [p] = planted.filter((x) => x.copy.includes('/ref/'));
      const g = groupOf(await service.findDuplicates({ kinds: ['exact'] }), p!.copy)!;
      expect(g.keeper).toBe(p!.copy);
      expect(g.members.filter((m) => m.keep).map((m) => m.path)).toEqual([p!.copy]);
      await expect(service.trashPhotos([idOf(service, p!.copy)], {})).rejects.toMatchObject({
        kind: 'invalid-argument',
        message: `Refusing to move photos in reference folders: ${p!.copy}`,
      });
      expect(fs.existsSync(p!.copy)).toBe(true);
    } finally {
      await service.setReferenceFolder(refFolder.id, false);
    }
  });
});

describe('moving duplicates to the trash', () => {
  const listing = () =>
    service.findDuplicates({ kinds: ['exact', 'near'], nearThreshold: near, similarThreshold: near });
  /** SHA-256 of each file: comparing digests is as strict as comparing bytes, and much faster to diff. */
  const fileDigests = (files: string[]) =>
    files.map((f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'));

  it('changes nothing in a dry run', async () => {
    const before = await listing();
    const victims = before.flatMap((g) => g.members.filter((m) => !m.keep));
    const report = await service.trashPhotos(
      victims.map((m) => m.photoId),
      { dryRun: true },
    );
    expect(report).toEqual({
      actionId: null,
      dryRun: true,
      files: victims.map((m) => ({ photoId: m.photoId, path: m.path })),
      skipped: [],
      undoable: true,
      undoNote: null,
    });
    for (const m of victims) expect(fs.existsSync(m.path)).toBe(true);
    expect(fs.existsSync(path.join(TRASH, 'files'))).toBe(false);
    expect(await listing()).toEqual(before);
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('moves every non-kept member to the trash, then undo puts them back byte-identical and indexed', async () => {
    const before = await listing();
    const photosBefore = (await service.info()).photos;
    const victims = before.flatMap((g) => g.members.filter((m) => !m.keep)).map((m) => m.path);
    expect(victims.length).toBeGreaterThan(10);
    const bytes = fileDigests(victims);
    const report = await service.trashPhotos(
      victims.map((v) => idOf(service, v)),
      {},
    );
    expect(report).toMatchObject({ dryRun: false, skipped: [], undoable: true, undoNote: null });
    expect(report.actionId).toEqual(expect.any(Number));
    expect(report.files.map((f) => f.path)).toEqual(victims);
    for (const v of victims) expect(fs.existsSync(v), v).toBe(false);
    expect(fs.readdirSync(path.join(TRASH, 'files'))).toHaveLength(victims.length);
    expect((await service.info()).photos).toBe(photosBefore - victims.length);
    expect(await listing()).toEqual([]);

    const undo = await service.undoLastAction();
    expect(undo).toEqual({
      actionId: report.actionId,
      restored: victims,
      failed: [],
      reindexed: victims.length,
      retried: 0,
    });
    expect(fileDigests(victims)).toEqual(bytes);
    expect(fs.readdirSync(path.join(TRASH, 'files'))).toEqual([]);
    expect(fs.readdirSync(path.join(TRASH, 'info'))).toEqual([]);
    expect((await service.info()).photos).toBe(photosBefore);
    expect(withoutIds(await listing())).toEqual(withoutIds(before));
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
  }, 120_000);

  it('skips a file changed since indexing and refuses ids that are not in the library', async () => {
    const p = planted.find((x) => x.edit === 'bright')!;
    const bytes = fs.readFileSync(p.copy);
    fs.appendFileSync(p.copy, Buffer.from([0]));
    try {
      const report = await service.trashPhotos([idOf(service, p.copy)], {});
      expect(report).toMatchObject({
        actionId: null,
        files: [],
        skipped: [{ path: p.copy, reason: 'Changed since it was indexed; index the folder again first' }],
      });
      expect(fs.existsSync(p.copy)).toBe(true);
    } finally {
      fs.writeFileSync(p.copy, bytes);
    }
    await expect(service.trashPhotos([999_999], {})).rejects.toMatchObject({ kind: 'not-found' });
  });
});
