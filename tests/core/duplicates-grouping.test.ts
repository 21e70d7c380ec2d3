// Duplicate grouping and keeper rules on synthetic vectors: random clusters from a small seeded generator in a
// real VectorIndex, many iterations. The real-photo tests are in duplicates.test.ts.
import { describe, expect, it } from 'vitest';
import type { DuplicateGroup, DuplicateKind } from '../../src/shared/api.js';
import {
  groupDuplicates,
  verifyFloor,
  type GroupingPhoto,
  type PairVerdict,
} from '../../src/core/duplicates/grouping.js';
import type { NeighbourSource } from '../../src/core/vectors.js';
import {
  chooseKeeper,
  DEFAULT_KEEPER_OPTIONS,
  type KeeperOptions,
  type KeeperPhoto,
} from '../../src/core/duplicates/keeper.js';
import { VectorIndex } from '../../src/core/search/vector-index.js';
import { rng } from '../../src/core/random.js';

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** A plain photo for hand-made vectors: path /l/<name>.jpg, content hash <name>. */
function photo(id: number, name: string): GroupingPhoto {
  return {
    id,
    path: `/l/${name}.jpg`,
    hash: name,
    size: 10,
    mtimeMs: 0,
    width: 10,
    height: 10,
    format: 'jpeg',
    takenAt: null,
    orientation: null,
    referenceFolder: false,
  };
}

interface Synthetic {
  /** Photos keyed by path, with their vectors (ids are given per index build). */
  items: { photo: Omit<GroupingPhoto, 'id'>; vector: Float32Array }[];
  notDuplicates: { hashA: string; hashB: string }[];
}

/** Clusters of varying spread around random centres, singletons, and exact copies (same hash and vector). */
function synthetic(seed: number, dim = 24): Synthetic {
  const rand = rng(seed);
  const items: Synthetic['items'] = [];
  const clusters = 1 + Math.floor(rand() * 12);
  let n = 0;
  const add = (vector: Float32Array, folder: string, hash?: string): void => {
    const i = n++;
    items.push({
      vector,
      photo: {
        path: `/library/${folder}/photo-${String(i).padStart(4, '0')}.jpg`,
        hash: hash ?? `h${seed}-${i}`,
        size: 1000 + Math.floor(rand() * 5000),
        mtimeMs: 1_700_000_000_000 + Math.floor(rand() * 1e9),
        width: 100 + Math.floor(rand() * 3) * 100,
        height: 100,
        format: rand() < 0.5 ? 'jpeg' : 'png',
        takenAt: rand() < 0.5 ? null : '2020-01-01T10:00:00',
        orientation: rand() < 0.5 ? null : 1,
        referenceFolder: folder === 'reference',
      },
    });
  };
  const folders = ['a', 'b', 'c', 'reference'];
  for (let c = 0; c < clusters; c++) {
    const centre = Array.from({ length: dim }, () => gaussian(rand));
    const spread = [0.02, 0.08, 0.2, 0.5][Math.floor(rand() * 4)]!;
    const size = 1 + Math.floor(rand() * 7);
    for (let m = 0; m < size; m++) {
      const v = Float32Array.from(
        centre,
        (x) => x + (spread * Math.hypot(...centre) * gaussian(rand)) / Math.sqrt(dim),
      );
      add(v, folders[Math.floor(rand() * folders.length)]!);
      if (rand() < 0.15) {
        // an exact copy elsewhere: same content hash, same vector
        const original = items[items.length - 1]!;
        add(Float32Array.from(v), folders[Math.floor(rand() * folders.length)]!, original.photo.hash!);
      }
    }
  }
  const singles = Math.floor(rand() * 10);
  for (let s = 0; s < singles; s++)
    add(
      Float32Array.from({ length: dim }, () => gaussian(rand)),
      'a',
    );
  const notDuplicates: Synthetic['notDuplicates'] = [];
  if (rand() < 0.5) {
    for (let k = 0; k < 3 && items.length > 1; k++) {
      const a = items[Math.floor(rand() * items.length)]!.photo.hash!;
      const b = items[Math.floor(rand() * items.length)]!.photo.hash!;
      if (a !== b) notDuplicates.push({ hashA: a, hashB: b });
    }
  }
  return { items, notDuplicates };
}

/** Builds a VectorIndex from the items in the given order, with ids drawn at random. */
function build(s: Synthetic, order: number[], rand: () => number): { photos: GroupingPhoto[]; index: VectorIndex } {
  const ids = shuffle(
    order.map((_, i) => i + 1 + Math.floor(rand() * 3) * 1000),
    rand,
  );
  const index = new VectorIndex(s.items[0]!.vector.length, 4);
  const photos: GroupingPhoto[] = [];
  order.forEach((itemIndex, i) => {
    const item = s.items[itemIndex]!;
    const id = ids[i]!;
    index.upsert(id, item.vector);
    photos.push({ ...item.photo, id });
  });
  return { photos, index };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Groups without ids, for comparing runs whose ids differ. */
const byPaths = (groups: DuplicateGroup[]) =>
  groups.map((g) => ({ ...g, members: g.members.map(({ photoId: _id, ...m }) => m) }));

const ALL: DuplicateKind[] = ['exact', 'near', 'similar'];

describe('groupDuplicates on random clusters', () => {
  it('keeps every member within the tier threshold of its reference, and each photo in one group at most', () => {
    let groupsSeen = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const s = synthetic(seed);
      const rand = rng(seed * 7919);
      const { photos, index } = build(s, [...s.items.keys()], rand);
      const near = 0.8 + rand() * 0.199;
      const similar = near - rand() * 0.4;
      const groups = groupDuplicates(
        { photos, vectors: index, notDuplicates: s.notDuplicates },
        { kinds: ALL, near, similar, candidates: 1 + Math.floor(rand() * 40) },
      );
      const seen = new Set<number>();
      const hashOf = new Map(photos.map((p) => [p.id, p.hash]));
      const notDup = new Set(s.notDuplicates.flatMap((p) => [`${p.hashA}|${p.hashB}`, `${p.hashB}|${p.hashA}`]));
      for (const g of groups) {
        groupsSeen++;
        const ctx = `seed ${seed}, ${g.kind} group of ${g.reference}`;
        expect(g.members.length, ctx).toBeGreaterThanOrEqual(2);
        expect(g.members[0]!.path, ctx).toBe(g.reference);
        expect(g.members.find((m) => m.path === g.keeper)?.keep, ctx).toBe(true);
        expect(
          g.members.some((m) => !m.keep),
          ctx,
        ).toBe(true);
        const ref = g.members[0]!;
        for (const m of g.members) {
          expect(seen.has(m.photoId), `${ctx}: ${m.path} in two groups`).toBe(false);
          seen.add(m.photoId);
          if (g.kind === 'exact') {
            expect(hashOf.get(m.photoId), ctx).toBe(hashOf.get(ref.photoId));
            continue;
          }
          const threshold = g.kind === 'near' ? near : similar;
          const actual = dot(index.get(ref.photoId)!, index.get(m.photoId)!);
          expect(actual, `${ctx}: ${m.path}`).toBeGreaterThanOrEqual(threshold - 1e-6);
          expect(m.score, `${ctx}: ${m.path}`).toBeCloseTo(m === ref ? 1 : actual, 5);
          for (const o of g.members) {
            expect(
              notDup.has(`${hashOf.get(m.photoId)}|${hashOf.get(o.photoId)}`),
              `${ctx}: a "not a duplicate" pair`,
            ).toBe(false);
          }
        }
      }
    }
    expect(groupsSeen).toBeGreaterThan(300); // the generator does plant groups
  });

  it('leaves no ungrouped photo within a threshold of a reference of that tier (when k covers every photo)', () => {
    for (let seed = 1000; seed < 1150; seed++) {
      const s = { ...synthetic(seed), notDuplicates: [] };
      const rand = rng(seed);
      const { photos, index } = build(s, [...s.items.keys()], rand);
      const near = 0.85 + rand() * 0.14;
      const similar = near - rand() * 0.3;
      const groups = groupDuplicates(
        { photos, vectors: index },
        { kinds: ALL, near, similar, candidates: photos.length },
      );
      // Photos no group took, outside reference folders (a group of reference-folder photos only is not listed).
      const groupedHashes = new Set(
        groups.flatMap((g) => g.members.map((m) => photos.find((p) => p.id === m.photoId)!.hash)),
      );
      const loose = photos.filter((p) => !groupedHashes.has(p.hash) && !p.referenceFolder);
      for (const g of groups.filter((x) => x.kind !== 'exact')) {
        const threshold = g.kind === 'near' ? near : similar;
        const ref = index.get(g.members[0]!.photoId)!;
        for (const p of loose) {
          expect(dot(ref, index.get(p.id)!), `seed ${seed}: ${p.path} left out of ${g.reference}`).toBeLessThan(
            threshold,
          );
        }
      }
    }
  });

  it('gives the same groups whatever the insertion order and the ids', () => {
    for (let seed = 2000; seed < 2100; seed++) {
      const s = synthetic(seed);
      const rand = rng(seed);
      const near = 0.85 + rand() * 0.14;
      const opts = { kinds: ALL, near, similar: near - 0.2 };
      const a = build(s, [...s.items.keys()], rand);
      const b = build(s, shuffle([...s.items.keys()], rand), rand);
      const ga = groupDuplicates({ photos: a.photos, vectors: a.index, notDuplicates: s.notDuplicates }, opts);
      const gb = groupDuplicates(
        { photos: shuffle(b.photos, rand), vectors: b.index, notDuplicates: [...s.notDuplicates].reverse() },
        opts,
      );
      expect(byPaths(gb), `seed ${seed}`).toEqual(byPaths(ga));
    }
  });

  it('finds candidates with one kNN query per photo, never by comparing all pairs', () => {
    const s = synthetic(42);
    const { photos, index } = build(s, [...s.items.keys()], rng(1));
    const calls: number[] = [];
    const counting: NeighbourSource = {
      get: (id) => index.get(id),
      search: (q, k, exclude) => {
        calls.push(k);
        return index.search(q, k, exclude);
      },
    };
    groupDuplicates({ photos, vectors: counting }, { kinds: ALL, near: 0.95, similar: 0.8 });
    const contents = new Set(photos.map((p) => p.hash)).size;
    expect(contents).toBeLessThan(photos.length); // the set has exact copies: one query per content
    expect(calls).toEqual(Array(contents).fill(32));
    // Exact copies only: no vector work at all.
    calls.length = 0;
    groupDuplicates({ photos, vectors: counting }, { kinds: ['exact'], near: 0.95, similar: 0.8 });
    expect(calls).toEqual([]);
  });

  it('gets the same neighbours from VectorIndex.searchMany as from one search per query', () => {
    for (let seed = 3000; seed < 3020; seed++) {
      const s = synthetic(seed, 40);
      const rand = rng(seed);
      const { photos, index } = build(s, [...s.items.keys()], rand);
      const queries = photos.map((p) => index.get(p.id)!);
      const excludes = photos.map((p) => new Set([p.id, photos[Math.floor(rand() * photos.length)]!.id]));
      const k = 1 + Math.floor(rand() * 20);
      expect(index.searchMany(queries, k, excludes)).toEqual(queries.map((q, i) => index.search(q, k, excludes[i])));
      const opts = { kinds: ALL, near: 0.95, similar: 0.8 };
      const plain: NeighbourSource = { get: (id) => index.get(id), search: (q, n, ex) => index.search(q, n, ex) };
      expect(groupDuplicates({ photos, vectors: index }, opts)).toEqual(
        groupDuplicates({ photos, vectors: plain }, opts),
      );
    }
  });

  it('lists a near pair as near even when only the similar tier is asked for', () => {
    const index = new VectorIndex(3);
    index.upsert(1, [1, 0, 0]);
    index.upsert(2, [1, 0.01, 0]);
    index.upsert(3, [1, 0.5, 0]);
    index.upsert(4, [0, 1, 0]);
    const photos = [photo(1, 'a'), photo(2, 'b'), photo(3, 'c'), photo(4, 'd')];
    const opts = { near: 0.99, similar: 0.85 };
    const all = groupDuplicates({ photos, vectors: index }, { ...opts, kinds: ALL });
    expect(all.map((g) => [g.kind, g.members.map((m) => m.path)])).toEqual([['near', ['/l/a.jpg', '/l/b.jpg']]]);
    expect(groupDuplicates({ photos, vectors: index }, { ...opts, kinds: ['similar'] })).toEqual([]);
    // Told that a and b are not duplicates, b is free to be a look-alike of c.
    const answered = groupDuplicates(
      { photos, vectors: index, notDuplicates: [{ hashA: 'b', hashB: 'a' }] },
      { ...opts, kinds: ALL },
    );
    expect(answered.map((g) => [g.kind, g.reference, g.members.map((m) => m.path)])).toEqual([
      ['similar', '/l/c.jpg', ['/l/c.jpg', '/l/b.jpg']],
    ]);
  });

  it('keeps exact copies an exact group when only a look-alike links them, whatever tiers are asked for', () => {
    const index = new VectorIndex(3);
    index.upsert(1, [1, 0, 0]);
    index.upsert(2, [1, 0, 0]);
    index.upsert(3, [1, 0.5, 0]);
    const photos = [photo(1, 'a'), { ...photo(2, 'a-copy'), hash: 'a' }, photo(3, 'c')];
    const opts = { near: 0.99, similar: 0.85 };
    for (const kinds of [['exact'], ['exact', 'near'], ALL] as DuplicateKind[][]) {
      const groups = groupDuplicates({ photos, vectors: index }, { ...opts, kinds });
      // c is a look-alike of a: asked for, it would take the copies out of the exact tier, and out of the trash.
      expect(groups.map((g) => [g.kind, g.members.map((m) => m.path)])).toEqual([
        ['exact', ['/l/a.jpg', '/l/a-copy.jpg']],
      ]);
    }
  });

  it("verifies a photo's nearest others below the look-alike threshold, and only verified ones join a group", () => {
    const index = new VectorIndex(2);
    // near 0.95, similar 0.9: the verifier reaches down to 0.8 for each photo's VERIFY_TOP nearest.
    const opts = { near: 0.95, similar: 0.9, kinds: ALL };
    expect(verifyFloor(opts.near, opts.similar)).toBeCloseTo(0.8, 10);
    const at = (cos: number) => [cos, Math.sqrt(1 - cos * cos)];
    index.upsert(1, [1, 0]);
    index.upsert(2, at(0.85)); // a crop scoring below the look-alike threshold
    index.upsert(3, at(-0.5)); // unrelated
    const photos = [photo(1, 'a'), photo(2, 'b'), photo(3, 'c')];
    const asked: string[] = [];
    const verdict = (x: GroupingPhoto, y: GroupingPhoto) => {
      asked.push([x.hash, y.hash].sort().join('-'));
      return { same: true, edits: ['cropped to 70%'], derived: null };
    };
    const verified = groupDuplicates({ photos, vectors: index, verdict }, opts);
    expect(verified.map((g) => [g.kind, g.members.map((m) => m.path)])).toEqual([['near', ['/l/a.jpg', '/l/b.jpg']]]);
    expect(new Set(asked)).toEqual(new Set(['a-b']));
    // Not the same picture: below the look-alike threshold it is no look-alike either.
    const refused = groupDuplicates(
      { photos, vectors: index, verdict: () => ({ same: false, edits: [], derived: null }) },
      opts,
    );
    expect(refused).toEqual([]);
    // Without a verifier nothing below the look-alike threshold is a candidate.
    expect(groupDuplicates({ photos, vectors: index }, opts)).toEqual([]);
  });

  it('keeps in a near group only what the verifier did not find to differ from the keeper', () => {
    // c is a crop of the original a; b is another shot of the scene whose keypoints fit the crop, and which the
    // verifier measured against a: another picture. Grouped around c, b must not go to the trash for a.
    const index = new VectorIndex(2);
    const at = (cos: number) => [cos, Math.sqrt(1 - cos * cos)];
    index.upsert(1, [1, 0]);
    index.upsert(2, at(0.97));
    index.upsert(3, at(0.99));
    const photos = [photo(1, 'a'), photo(2, 'b'), photo(3, 'c')];
    const opts = { near: 0.95, similar: 0.9, kinds: ['exact', 'near'] as DuplicateKind[] };
    const says: Record<string, { same: boolean; derived: 'a' | 'b' | null }> = {
      'c-a': { same: true, derived: 'a' }, // c is the derived one
      'c-b': { same: true, derived: null },
      'a-b': { same: false, derived: null },
    };
    const verdict = (x: GroupingPhoto, y: GroupingPhoto): PairVerdict | undefined => {
      const v = says[`${x.hash}-${y.hash}`];
      const w = says[`${y.hash}-${x.hash}`];
      if (v) return { ...v, edits: [] };
      if (w) return { same: w.same, derived: w.derived === 'a' ? 'b' : w.derived === 'b' ? 'a' : null, edits: [] };
      return undefined;
    };
    const groups = groupDuplicates({ photos, vectors: index, verdict }, opts);
    expect(groups.map((g) => [g.kind, g.keeper, g.members.map((m) => m.path).sort()])).toEqual([
      ['near', '/l/a.jpg', ['/l/a.jpg', '/l/c.jpg']],
    ]);
    // Unmeasured against the keeper, b stays: the verdict against the reference is all there is.
    delete says['a-b'];
    const unmeasured = groupDuplicates({ photos, vectors: index, verdict }, opts);
    expect(unmeasured.map((g) => g.members.map((m) => m.path).sort())).toEqual([['/l/a.jpg', '/l/b.jpg', '/l/c.jpg']]);
  });

  it('refuses thresholds out of range or a similar threshold above the near one', () => {
    const index = new VectorIndex(2);
    for (const [near, similar] of [
      [1.5, 0.9],
      [0.9, -2],
      [0.9, 0.95],
      [Number.NaN, 0.5],
    ]) {
      expect(() =>
        groupDuplicates({ photos: [], vectors: index }, { kinds: ALL, near: near!, similar: similar! }),
      ).toThrow(expect.objectContaining({ kind: 'invalid-argument' }));
    }
  });
});

describe('keeper rules', () => {
  const base: Omit<KeeperPhoto, 'path'> = {
    size: 1000,
    mtimeMs: 1_700_000_000_000,
    width: 100,
    height: 100,
    format: 'jpeg',
    takenAt: null,
    orientation: null,
    referenceFolder: false,
  };
  const opts = (over: Partial<KeeperOptions> = {}): KeeperOptions => ({ ...DEFAULT_KEEPER_OPTIONS, ...over });
  const keep = (photos: (typeof base & { path: string })[], o = opts()) => chooseKeeper(photos, o).path;

  it('prefers the most pixels, then the preferred format, then richer EXIF, then the bigger file, then the oldest', () => {
    const a = { ...base, path: '/a.jpg' };
    expect(keep([a, { ...base, path: '/big.jpg', width: 200 }])).toBe('/big.jpg');
    expect(keep([a, { ...base, path: '/b.png', format: 'png', size: 10 }])).toBe('/b.png');
    expect(keep([a, { ...base, path: '/exif.jpg', takenAt: '2001-01-01T00:00:00' }])).toBe('/exif.jpg');
    expect(keep([a, { ...base, path: '/heavy.jpg', size: 2000 }])).toBe('/heavy.jpg');
    // An edited copy re-saved at a higher quality is bigger than its original but has lost the camera's EXIF.
    const original = { ...base, path: '/camera.jpg', takenAt: '2020-06-01T10:00:00', orientation: 1 };
    expect(keep([original, { ...base, path: '/edited.jpg', size: 3000 }])).toBe('/camera.jpg');
    expect(
      keep([
        { ...base, path: '/new.jpg', takenAt: '2010-05-01T00:00:00', orientation: 1 },
        { ...base, path: '/old.jpg', takenAt: '2009-05-01T00:00:00+02:00', orientation: 1 },
      ]),
    ).toBe('/old.jpg');
    expect(
      keep([
        { ...base, path: '/copied.jpg', mtimeMs: 2e12 },
        { ...base, path: '/first.jpg' },
      ]),
    ).toBe('/first.jpg');
  });

  it('follows the rules in the order given, and preferred folders in theirs', () => {
    const big = { ...base, path: '/x/big.jpg', width: 200, size: 500 };
    const heavy = { ...base, path: '/y/heavy.jpg', size: 5000 };
    expect(keep([big, heavy])).toBe('/x/big.jpg');
    expect(keep([big, heavy], opts({ rules: ['file-size', 'resolution'] }))).toBe('/y/heavy.jpg');
    expect(keep([big, heavy], opts({ rules: ['preferred-folder'], preferredFolders: ['/y', '/x'] }))).toBe(
      '/y/heavy.jpg',
    );
    expect(keep([big, heavy], opts({ formatPreference: ['png'], rules: ['format'] }))).toBe('/x/big.jpg'); // tie: path
  });

  it('always keeps a photo in a reference folder, and decides a full tie by the shorter path', () => {
    const best = { ...base, path: '/a.jpg', width: 400, format: 'png', size: 1e6 };
    expect(keep([best, { ...base, path: '/ref/z.jpg', referenceFolder: true }])).toBe('/ref/z.jpg');
    expect(
      keep([
        { ...base, path: '/long/b.jpg' },
        { ...base, path: '/c.jpg' },
      ]),
    ).toBe('/c.jpg');
    expect(
      keep([
        { ...base, path: '/d.jpg' },
        { ...base, path: '/c.jpg' },
      ]),
    ).toBe('/c.jpg');
  });
});
