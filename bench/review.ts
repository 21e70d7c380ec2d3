// The `review` section of `npm run bench` (`--only review`; slow, not part of the full run): the duplicate review
// on a real library, through the code path of `doppel dupes`. The library: every photo of
// ../shared/data/imagenette/train and ../shared/data/photos (indexed in place, read-only) plus 340 planted
// copies, each one edit of one original (17 edits, 20 originals each), in a folder of their own with neutral
// names. It is built in a temp folder, or in DOPPEL_BENCH_REVIEW_DIR, where a rerun reuses the copies and the
// index when the planted set is the same (and keeps the indexed distinct photos when only the seed differs:
// DOPPEL_BENCH_REVIEW_SEED plants copies of other originals). Then DoppelService.findDuplicates with the default settings:
// - recall: a planted copy counts as found when it shares an exact or near group with its original;
// - falseGroups: group members that are not the same picture as their group's reference (neither a planted
//   copy of it, nor its original, nor a known duplicate: KNOWN_DUPLICATES);
// - falseTrash: members that `doppel dupes --trash` would move (keep=false) that are not the same picture as
//   their group's keeper;
// - keeper: in each group that holds an original with its copy, whether the keeper is the original;
// - lookAlikes: similar-tier groups (kinds exact, near and similar);
// - scan seconds: a fresh service's first scan (on a reused library the verifier's measures are cached in its
//   database: library.json keeps the first scan of the library's first run), the same service's second, and with
//   verification off where DuplicateQuery has a `verify` option; each searches the library (`rescan`); then
//   `unchanged`: the scan of the unchanged library as `doppel dupes` runs it again (the kept groups read back);
// - split: the same figures for originals of the "dev" classes (the first five imagenette classes, the ones the
//   verifier's thresholds were tuned on) and of the held-out rest (the other five and ../shared/data/photos).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { DuplicateGroup, DuplicateKind, DuplicateQuery, IndexSummary } from '../src/shared/api.js';
import { ATTACKS, decodeOriginal } from '../src/core/eval/attacks.js';
import { defaultModelsDir } from '../src/core/paths.js';
import { rng } from '../src/core/random.js';
import { DoppelService } from '../src/core/service.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = fs.realpathSync(path.resolve(ROOT, '../shared/data'));
const IMAGENETTE = path.join(DATA, 'imagenette/train');
const PHOTOS = path.join(DATA, 'photos');
const log = (m: string): void => void process.stderr.write(`${m}\n`);

/**
 * Which originals get copies. The default set is the one the verifier was developed on; another seed
 * (DOPPEL_BENCH_REVIEW_SEED) plants copies of other originals, a check on copies nobody looked at.
 */
const DEFAULT_SEED = 20261202;
const SEED = Number(process.env.DOPPEL_BENCH_REVIEW_SEED ?? DEFAULT_SEED);
if (!Number.isSafeInteger(SEED)) throw new Error('DOPPEL_BENCH_REVIEW_SEED must be an integer');
/** Originals per edit. */
const PER_EDIT = 20;
/** Bumped whenever the way copies are made changes: a library built another way is rebuilt. */
const PLANT_VERSION = 1;
const SUBDIRS = ['2019', '2020', '2021', 'phone', 'camera'];
const DAY_MS = 86_400_000;
/** The imagenette classes the verifier's thresholds were tuned on (the first five in sorted order). */
const DEV_CLASSES = ['n01440764', 'n02102040', 'n02979186', 'n03000684', 'n03028079'];

/** The edits, in report order: the eval's attacks, then quarter turns, an EXIF-only turn, a byte copy, a PNG. */
const EDITS = [...ATTACKS.map((a) => a.id), 'rot90', 'rot270', 'exif-rotate', 'exact', 'png'] as const;
type Edit = (typeof EDITS)[number];

/**
 * Pairs of photos of the data sets that are the same picture (checked by eye, side by side), paths relative to
 * ../shared/data. Grouping them is right, not an error. A different shot of the same scene or animal (a burst,
 * another pose) does not belong here.
 */
export const KNOWN_DUPLICATES: readonly { a: string; b: string; note: string }[] = [
  {
    a: 'imagenette/train/n01440764/n01440764_3129.JPEG',
    b: 'imagenette/train/n01440764/n01440764_5634.JPEG',
    note: 'the same fish photo, mirrored, one of them letterboxed with black bars',
  },
  {
    a: 'imagenette/train/n03445777/n03445777_10723.JPEG',
    b: 'imagenette/train/n03445777/n03445777_5745.JPEG',
    note: 'the same golf ball on red, turned 90 degrees and framed a little tighter',
  },
];

export interface PlantedCopy {
  /** Paths relative to ../shared/data (original) and to the library folder (copy). */
  original: string;
  copy: string;
  edit: Edit;
}

/** The photo files under a folder, sorted (the same extensions as the indexer's JPEG and PNG). */
function photoFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
}

const isJpeg = (bytes: Uint8Array): boolean => bytes[0] === 0xff && bytes[1] === 0xd8;

/**
 * Which originals get which edit, and the copies' names: a seeded shuffle of every distinct photo, PER_EDIT
 * originals per edit in turn (exif-rotate takes JPEG originals only). Depends on the file list alone.
 */
function plan(distinct: readonly string[]): PlantedCopy[] {
  const rand = rng(SEED);
  const order = [...distinct];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const numbers = new Set<number>();
  const used = new Set<string>();
  const planned: PlantedCopy[] = [];
  for (const edit of EDITS) {
    let taken = 0;
    for (const original of order) {
      if (taken === PER_EDIT) break;
      if (used.has(original)) continue;
      if (edit === 'exif-rotate' && !isJpeg(fs.readFileSync(original))) continue;
      used.add(original);
      taken++;
      let n: number;
      do n = 1000 + Math.floor(rand() * 9000);
      while (numbers.has(n));
      numbers.add(n);
      const sub = SUBDIRS[Math.floor(rand() * SUBDIRS.length)]!;
      const ext = edit === 'png' ? 'png' : edit === 'exact' ? path.extname(original).slice(1).toLowerCase() : 'jpg';
      planned.push({ original: path.relative(DATA, original), copy: `planted/${sub}/IMG_${n}.${ext}`, edit });
    }
  }
  return planned;
}

/**
 * The same JPEG with EXIF orientation `orientation`: any APP1 Exif segment is dropped and a minimal one goes in
 * right after the SOI marker: "Exif\0\0", a big-endian TIFF header and one IFD holding the Orientation tag
 * alone (0x0112, SHORT). Every other segment and the compressed image data stay byte for byte, so the copy
 * has the original's pixels and only viewers that honour the tag show it turned (6: 90° clockwise).
 */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  if (!isJpeg(jpeg)) throw new Error('not a JPEG');
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // the IFD follows the header
  tiff.writeUInt16BE(1, 8); // one entry:
  tiff.writeUInt16BE(0x0112, 10); // Orientation,
  tiff.writeUInt16BE(3, 12); // SHORT,
  tiff.writeUInt32BE(1, 14); // one value,
  tiff.writeUInt16BE(orientation, 18); // left-aligned in the 4-byte value field
  tiff.writeUInt32BE(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  const kept: Buffer[] = [];
  let i = 2;
  // The marker segments up to the start of scan (0xDA), each 0xFF, marker, 2-byte length counting itself.
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff && jpeg[i + 1] !== 0xda) {
    const segment = jpeg.subarray(i, i + 2 + jpeg.readUInt16BE(i + 2));
    if (!(jpeg[i + 1] === 0xe1 && segment.subarray(4, 10).toString('latin1') === 'Exif\0\0')) kept.push(segment);
    i += segment.length;
  }
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, ...kept, jpeg.subarray(i)]);
}

async function makeCopy(edit: Edit, bytes: Buffer): Promise<Buffer> {
  if (edit === 'exact') return bytes;
  if (edit === 'exif-rotate') return withExifOrientation(bytes, 6);
  const img = await decodeOriginal(bytes);
  const attack = ATTACKS.find((a) => a.id === edit);
  if (attack) return attack.apply(img);
  const raw = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (edit === 'png') return raw.png().toBuffer();
  return raw
    .rotate(edit === 'rot90' ? 90 : 270)
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Writes the planted copies (mtime one day after the original's) and their manifest. */
async function plant(dir: string, planned: readonly PlantedCopy[]): Promise<void> {
  fs.rmSync(path.join(dir, 'planted'), { recursive: true, force: true });
  for (const [i, p] of planned.entries()) {
    const original = path.join(DATA, p.original);
    const copy = path.join(dir, p.copy);
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.writeFileSync(copy, await makeCopy(p.edit, fs.readFileSync(original)));
    const mtime = new Date(fs.statSync(original).mtimeMs + DAY_MS);
    fs.utimesSync(copy, mtime, mtime);
    if ((i + 1) % 80 === 0) log(`review: planted ${i + 1}/${planned.length} copies`);
  }
  const manifest = { version: PLANT_VERSION, seed: SEED, copies: planned };
  fs.writeFileSync(path.join(dir, 'planted/manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The PLANT_VERSION of the copies planted in the folder, if any. */
function plantVersion(dir: string): number | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'planted/manifest.json'), 'utf8')) as { version: number })
      .version;
  } catch {
    return null;
  }
}

/** Whether the folder holds this planted set already (same manifest, every copy there). */
function planted(dir: string, planned: readonly PlantedCopy[]): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'planted/manifest.json'), 'utf8')) as {
      version: number;
      seed: number;
      copies: PlantedCopy[];
    };
    return (
      m.version === PLANT_VERSION &&
      m.seed === SEED &&
      JSON.stringify(m.copies) === JSON.stringify(planned) &&
      planned.every((p) => fs.existsSync(path.join(dir, p.copy)))
    );
  } catch {
    return false;
  }
}

/** Union-find over paths: photos that are the same picture share a root. */
class Pictures {
  private readonly parent = new Map<string, string>();
  find(p: string): string {
    let r = p;
    while (this.parent.has(r)) r = this.parent.get(r)!;
    if (r !== p) this.parent.set(p, r);
    return r;
  }
  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent.set(ra, rb);
  }
  same(a: string, b: string): boolean {
    return this.find(a) === this.find(b);
  }
}

type Split = 'dev' | 'heldOut';

interface Truth {
  pictures: Pictures;
  /** Planted copies by their absolute path, with the original's absolute path. */
  copies: Map<string, PlantedCopy & { originalPath: string; copyPath: string }>;
  /** Each photo's split: its own class, or its original's for a planted copy. */
  splitOf(p: string): Split;
  rel(p: string): string;
}

function truthOf(dir: string, planned: readonly PlantedCopy[]): Truth {
  const pictures = new Pictures();
  const copies = new Map<string, PlantedCopy & { originalPath: string; copyPath: string }>();
  for (const p of planned) {
    const originalPath = path.join(DATA, p.original);
    const copyPath = path.join(dir, p.copy);
    copies.set(copyPath, { ...p, originalPath, copyPath });
    pictures.union(copyPath, originalPath);
  }
  for (const k of KNOWN_DUPLICATES) pictures.union(path.join(DATA, k.a), path.join(DATA, k.b));
  const splitOf = (p: string): Split => {
    const source = copies.get(p)?.originalPath ?? p;
    const rel = path.relative(IMAGENETTE, source);
    return !rel.startsWith('..') && DEV_CLASSES.includes(rel.split(path.sep)[0]!) ? 'dev' : 'heldOut';
  };
  const rel = (p: string): string =>
    p.startsWith(`${dir}${path.sep}`) ? path.relative(dir, p) : path.relative(DATA, p);
  return { pictures, copies, splitOf, rel };
}

const share = (n: number, d: number): number | null => (d === 0 ? null : Number((n / d).toFixed(4)));

/** Recall, false groups and keeper figures of exact/near groups, for the copies and pairs `within` keeps. */
function quality(groups: readonly DuplicateGroup[], truth: Truth, within: (split: Split) => boolean) {
  const dupes = groups.filter((g) => g.kind === 'exact' || g.kind === 'near');
  const groupsOf = new Map<string, DuplicateGroup[]>();
  for (const g of dupes) for (const m of g.members) groupsOf.set(m.path, [...(groupsOf.get(m.path) ?? []), g]);

  const recall: Record<string, { planted: number; found: number; recall: number | null }> = {};
  const keeperFailures: Record<string, { original: string; copy: string; keeper: string }[]> = {};
  /** What the verifier said about each edit's copies found: the member's `edits`, joined, with counts. */
  const editsSeen: Record<string, Record<string, number>> = {};
  const missed: { edit: Edit; original: string; copy: string; copyGroupedWith: string | null }[] = [];
  let planted = 0;
  let found = 0;
  let trueGroups = 0;
  let keeperRight = 0;
  for (const edit of EDITS) {
    const copies = [...truth.copies.values()].filter((c) => c.edit === edit && within(truth.splitOf(c.copyPath)));
    let hits = 0;
    for (const c of copies) {
      const g = (groupsOf.get(c.copyPath) ?? []).find((x) => x.members.some((m) => m.path === c.originalPath));
      if (!g) {
        const other = groupsOf.get(c.copyPath)?.[0];
        missed.push({
          edit,
          original: truth.rel(c.originalPath),
          copy: truth.rel(c.copyPath),
          copyGroupedWith: other ? truth.rel(other.reference) : null,
        });
        continue;
      }
      hits++;
      trueGroups++;
      // `edits` describe a member against the group's keeper or reference: the copy's, or the original's when
      // the copy is the one the others are described against.
      const edits = (p: string): string[] => g.members.find((m) => m.path === p)!.edits;
      const [ofCopy, ofOriginal] = [edits(c.copyPath), edits(c.originalPath)];
      const said =
        ofCopy.length > 0
          ? `copy: ${ofCopy.join(', ')}`
          : ofOriginal.length > 0
            ? `original: ${ofOriginal.join(', ')}`
            : '(none)';
      (editsSeen[edit] ??= {})[said] = (editsSeen[edit][said] ?? 0) + 1;
      if (g.keeper === c.originalPath) keeperRight++;
      else {
        (keeperFailures[edit] ??= []).push({
          original: truth.rel(c.originalPath),
          copy: truth.rel(c.copyPath),
          keeper: truth.rel(g.keeper),
        });
      }
    }
    planted += copies.length;
    found += hits;
    recall[edit] = { planted: copies.length, found: hits, recall: share(hits, copies.length) };
  }

  // Members that are not the same picture as their group's reference (that is what the verifier judged).
  const falsePairs: Record<string, unknown>[] = [];
  const falseGroupSet = new Set<DuplicateGroup>();
  const falsePhotos = new Set<string>();
  for (const g of dupes) {
    for (const m of g.members) {
      if (m.path === g.reference || truth.pictures.same(m.path, g.reference)) continue;
      const splits = new Set([truth.splitOf(m.path), truth.splitOf(g.reference)]);
      if (![...splits].every(within)) continue;
      falseGroupSet.add(g);
      falsePhotos.add(m.path).add(g.reference);
      const ref = g.members.find((x) => x.path === g.reference);
      falsePairs.push({
        kind: g.kind,
        reference: truth.rel(g.reference),
        referenceEdits: ref?.edits ?? [],
        keeper: truth.rel(g.keeper),
        member: truth.rel(m.path),
        edits: m.edits,
        score: Number(m.score.toFixed(4)),
        splits: [...splits],
      });
    }
  }
  return {
    recall: { planted, found, recall: share(found, planted), byEdit: recall, missed },
    verifierEditsOfFoundCopies: editsSeen,
    falseGroups: {
      groups: falseGroupSet.size,
      pairs: falsePairs.length,
      photos: falsePhotos.size,
      examples: falsePairs.slice(0, 30),
    },
    keeper: {
      trueGroups,
      keeperIsOriginal: keeperRight,
      share: share(keeperRight, trueGroups),
      failuresByEdit: Object.fromEntries(Object.entries(keeperFailures).map(([e, list]) => [e, list.length])),
      failures: keeperFailures,
    },
  };
}

/** Members `doppel dupes --trash` would move (keep=false) that are not the same picture as their group's keeper. */
function falseTrash(groups: readonly DuplicateGroup[], truth: Truth) {
  const wrong: Record<string, unknown>[] = [];
  let moved = 0;
  for (const g of groups) {
    if (g.kind !== 'exact' && g.kind !== 'near') continue;
    for (const m of g.members) {
      if (m.keep) continue;
      moved++;
      if (truth.pictures.same(m.path, g.keeper)) continue;
      wrong.push({
        kind: g.kind,
        keeper: truth.rel(g.keeper),
        moved: truth.rel(m.path),
        edits: m.edits,
        score: Number(m.score.toFixed(4)),
      });
    }
  }
  return { wouldMove: moved, notACopyOfKeeper: wrong.length, examples: wrong.slice(0, 30) };
}

/** Whether DuplicateQuery offers `verify?: boolean` (the API's source says; the types do not exist at run time). */
function hasVerifyOption(): boolean {
  const api = fs.readFileSync(path.join(ROOT, 'src/shared/api.ts'), 'utf8');
  const query = /export interface DuplicateQuery \{[\s\S]*?\n\}/.exec(api)?.[0] ?? '';
  return /\bverify\?:\s*boolean/.test(query);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)) };
}

const sameGroups = (a: readonly DuplicateGroup[], b: readonly DuplicateGroup[]): boolean =>
  JSON.stringify(a.map((g) => [g.kind, g.keeper, g.members.map((m) => m.path)])) ===
  JSON.stringify(b.map((g) => [g.kind, g.keeper, g.members.map((m) => m.path)]));

export async function reviewBench(): Promise<Record<string, unknown>> {
  const dir = path.resolve(process.env.DOPPEL_BENCH_REVIEW_DIR ?? path.join(os.tmpdir(), 'doppel-bench-review'));
  fs.mkdirSync(dir, { recursive: true });
  const root = fs.realpathSync(dir);
  const dbPath = path.join(root, 'library.sqlite');
  const distinct = [...photoFiles(IMAGENETTE), ...photoFiles(PHOTOS)];
  const planned = plan(distinct);
  const reused = planted(root, planned) && fs.existsSync(dbPath);
  // A library indexed with the copies of another seed keeps its distinct photos (and the verdicts on their pairs):
  // only the planted folder is replaced, and indexing takes the change as it would a user's.
  const replanted = !reused && fs.existsSync(dbPath) && plantVersion(root) === PLANT_VERSION;
  if (!reused) {
    log(`review: planting ${planned.length} copies in ${root}${replanted ? ' (keeping the indexed library)' : ''}`);
    if (!replanted)
      for (const f of fs.readdirSync(root))
        if (f.startsWith('library.sqlite') || f === 'thumbnails' || f === 'library.json') {
          fs.rmSync(path.join(root, f), { recursive: true, force: true });
        }
    await plant(root, planned);
  } else log(`review: reusing the library in ${root}`);
  const truth = truthOf(root, planned);

  // Indexing, as `doppel index` does it: the folders, then every folder indexed.
  let summary: IndexSummary;
  {
    const service = await DoppelService.open({ dbPath, modelsDir: defaultModelsDir(), startIndexer: true });
    let last = 0;
    service.on('progress', (p) => {
      if (p.phase === 'index' && p.done - last >= 1000) {
        last = p.done;
        log(`review: indexed ${p.done}/${p.total} (${p.rate.toFixed(1)} photos/s)`);
      }
    });
    for (const folder of [IMAGENETTE, PHOTOS, path.join(root, 'planted')]) await service.addFolder(folder);
    summary = await service.indexAll();
    await service.close();
  }
  // What the first run on this library measured: its indexing, and its first scan (later runs find the verifier's
  // measures cached in the database, so their first scan is not a first one).
  const libraryFile = path.join(root, 'library.json');
  if ((!reused && !replanted) || !fs.existsSync(libraryFile)) {
    fs.writeFileSync(libraryFile, `${JSON.stringify({ firstIndexSeconds: summary.durationMs / 1000 })}\n`);
  }
  const record = JSON.parse(fs.readFileSync(libraryFile, 'utf8')) as {
    firstIndexSeconds: number;
    firstScanSeconds?: number;
  };
  const freshDatabase = record.firstScanSeconds === undefined;
  log(`review: indexing ${(summary.durationMs / 1000).toFixed(1)} s, ${summary.errors.length} errors`);

  // The review, as `doppel dupes` runs it: a fresh service, the default settings.
  const service = await DoppelService.open({ dbPath, modelsDir: defaultModelsDir() });
  try {
    const info = await service.info();
    const settings = await service.getSettings();
    const kinds: DuplicateKind[] = ['exact', 'near'];
    // `rescan`: every timed scan searches the library (an unchanged library's next scan reads the last one's groups).
    const first = await timed(() => service.findDuplicates({ kinds, rescan: true }));
    log(`review: first scan ${first.seconds} s, ${first.value.length} groups`);
    if (freshDatabase) {
      record.firstScanSeconds = first.seconds;
      fs.writeFileSync(libraryFile, `${JSON.stringify(record)}\n`);
    }
    const second = await timed(() => service.findDuplicates({ kinds, rescan: true }));
    log(`review: second scan ${second.seconds} s`);
    const unchanged = await timed(() => service.findDuplicates({ kinds }));
    const unchangedStored = (service as { lastScan?: { stored: boolean } | null }).lastScan?.stored ?? null;
    log(`review: unchanged library's scan ${unchanged.seconds} s (kept groups read back: ${unchangedStored})`);
    let verifyOff: Record<string, unknown>;
    if (hasVerifyOption()) {
      const query: DuplicateQuery & { verify?: boolean } = { kinds, verify: false, rescan: true };
      const off = await timed(() => service.findDuplicates(query));
      const q = quality(off.value, truth, () => true);
      verifyOff = {
        seconds: off.seconds,
        groups: off.value.length,
        recall: q.recall.recall,
        falseGroups: q.falseGroups.groups,
        falsePairs: q.falseGroups.pairs,
      };
      log(`review: scan with verification off ${off.seconds} s`);
    } else verifyOff = { skipped: 'DuplicateQuery has no verify option' };
    const all = await timed(() => service.findDuplicates({ kinds: ['exact', 'near', 'similar'], rescan: true }));
    log(`review: scan with look-alikes ${all.seconds} s`);

    const groups = first.value;
    const count = (kind: DuplicateKind, gs: readonly DuplicateGroup[]): number =>
      gs.filter((g) => g.kind === kind).length;
    const known = KNOWN_DUPLICATES.map((k) => {
      const [a, b] = [path.join(DATA, k.a), path.join(DATA, k.b)];
      const grouped = groups.some((g) => g.members.some((m) => m.path === a) && g.members.some((m) => m.path === b));
      return { ...k, grouped };
    });
    const { recall, verifierEditsOfFoundCopies, falseGroups, keeper } = quality(groups, truth, () => true);
    const split = Object.fromEntries(
      (['dev', 'heldOut'] as const).map((s) => {
        const q = quality(groups, truth, (x) => x === s);
        return [
          s,
          {
            recall: { planted: q.recall.planted, found: q.recall.found, recall: q.recall.recall },
            recallByEdit: Object.fromEntries(Object.entries(q.recall.byEdit).map(([e, r]) => [e, r.recall])),
            falseGroups: { groups: q.falseGroups.groups, pairs: q.falseGroups.pairs },
            keeper: { trueGroups: q.keeper.trueGroups, share: q.keeper.share, failuresByEdit: q.keeper.failuresByEdit },
          },
        ];
      }),
    );
    return {
      dir: root,
      model: info.model.name,
      backend: info.model.backend,
      settings: {
        nearThreshold: settings.nearThreshold,
        similarThreshold: settings.similarThreshold,
        sources: settings.sources,
        findCroppedCopies: settings.findCroppedCopies,
        keeperRules: settings.keeperRules,
      },
      library: {
        distinct: distinct.length,
        planted: planned.length,
        total: distinct.length + planned.length,
        indexed: info.photos,
        indexErrors: summary.errors.length,
        indexErrorExamples: summary.errors.slice(0, 5).map((e) => ({ path: truth.rel(e.path), reason: e.reason })),
        seed: SEED,
        reused,
        replanted,
        indexSeconds: summary.durationMs / 1000,
        firstIndexSeconds: record.firstIndexSeconds,
      },
      groups: { exact: count('exact', groups), near: count('near', groups) },
      recall,
      verifierEditsOfFoundCopies,
      falseGroups,
      falseTrash: falseTrash(groups, truth),
      keeper,
      lookAlikes: count('similar', all.value),
      knownDuplicates: known,
      scanSeconds: {
        first: first.seconds,
        firstOnFreshDatabase: freshDatabase,
        firstOnThisDatabase: record.firstScanSeconds ?? null,
        second: second.seconds,
        secondSameGroups: sameGroups(first.value, second.value),
        unchanged: {
          seconds: unchanged.seconds,
          stored: unchangedStored,
          sameGroups: sameGroups(second.value, unchanged.value),
        },
        verifyOff,
        withLookAlikes: all.seconds,
      },
      split,
      manifest: planned,
    };
  } finally {
    await service.close();
  }
}
