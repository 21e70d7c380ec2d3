// `npm run bench`: Doppel's speed figures as JSON on stdout (progress on stderr).
// Sections: index (photos/s on ../shared/data/photos, the unchanged re-run, and 12-megapixel JPEGs against
// vipsthumbnail and findimagedupes; see bench/index.ts), encode (thumbnails/s
// per backend, each in its own process), dupes (the duplicate scan over synthetic vectors of the model's
// dimension), search (find-similar latency, recall, memory, duplicate candidate scan and cold start of the
// library-scale search layer; see bench/search.ts). `npm run bench -- --only encode` runs one section.
// `--only review` (not part of the full run: it indexes ~10,000 photos) measures the duplicate review on a real
// library with planted edited copies (bench/review.ts). `--only grid` (not part of the full run either: it builds
// the renderer and starts Chromium) measures the library grid at 100,000 photos: photoLayout's time and size, and
// frame times while scrolling (bench/grid.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuplicateGroup } from '../src/shared/api.js';
import { groupDuplicates, type GroupingPhoto } from '../src/core/duplicates/grouping.js';
import { defaultModelsDir } from '../src/core/paths.js';
import { viewNeighbours, viewStretch } from '../src/core/search/crop-views.js';
import { CompactIndex } from '../src/core/search/search-index.js';
import { VectorIndex } from '../src/core/search/vector-index.js';
import { gridBench } from './grid.js';
import { indexBench } from './index.js';
import { reviewBench } from './review.js';
import { coldStart, searchBench, syntheticVectors } from './search.js';
import { rng } from '../src/core/random.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const log = (m: string): void => void process.stderr.write(`${m}\n`);

function encodeBench(): Record<string, unknown>[] {
  return ['wasm', 'tensorflow'].map((backend) => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'encode.ts'), backend],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    log(
      `encode on ${backend}: ${r.available ? `${String(r.thumbnailsPerSecond)} thumbnails/s` : `unavailable (${String(r.reason)})`}`,
    );
    return r;
  });
}

/** The default model's vector length (its card), 512 when it cannot be read. */
function modelDim(): number {
  try {
    const dir = defaultModelsDir();
    const { default: name } = JSON.parse(fs.readFileSync(path.join(dir, 'models.json'), 'utf8')) as { default: string };
    const card = JSON.parse(fs.readFileSync(path.join(dir, name, 'card.json'), 'utf8')) as { dim: number };
    return card.dim;
  } catch {
    return 512;
  }
}

/**
 * A synthetic library of n photos: non-negative vectors like the autoencoder's (distinct photos at cosine ~0.75),
 * 5% of them with 1-4 near copies (cosine ~0.99 to their original) and 1% of them exact copies (same hash).
 */
function syntheticLibrary(
  n: number,
  dim: number,
): { photos: GroupingPhoto[]; index: VectorIndex; planted: string[][] } {
  const rand = rng(n);
  const index = new VectorIndex(dim, n);
  const photos: GroupingPhoto[] = [];
  /** Paths of each original with its near copies. */
  const planted: string[][] = [];
  const v = new Float32Array(dim);
  const add = (vector: Float32Array, hash: string): void => {
    const id = photos.length + 1;
    index.upsert(id, vector);
    photos.push({
      id,
      path: `/library/${String(id % 100).padStart(2, '0')}/photo-${id}.jpg`,
      hash,
      size: 100_000 + Math.floor(rand() * 4_000_000),
      mtimeMs: 1.6e12 + rand() * 1e11,
      width: 4000,
      height: 3000,
      format: 'jpeg',
      takenAt: null,
      orientation: null,
      referenceFolder: false,
    });
  };
  while (photos.length < n) {
    for (let j = 0; j < dim; j++) v[j] = rand();
    const original = Float32Array.from(v);
    add(original, `h${photos.length}`);
    const r = rand();
    if (r < 0.05) {
      const copies = 1 + Math.floor(rand() * 4);
      const cluster = [photos[photos.length - 1]!.path];
      for (let c = 0; c < copies && photos.length < n; c++) {
        for (let j = 0; j < dim; j++) v[j] = Math.max(0, original[j]! + (rand() - 0.5) * 0.12);
        add(Float32Array.from(v), `h${photos.length}`);
        cluster.push(photos[photos.length - 1]!.path);
      }
      if (cluster.length > 1) planted.push(cluster);
    } else if (r < 0.06 && photos.length < n) add(original, photos[photos.length - 1]!.hash!);
  }
  return { photos, index, planted };
}

/** A sanity figure, not a quality one: planted clusters found as exactly one near group each. */
function recovered(groups: DuplicateGroup[], planted: string[][]): number {
  const near = new Set(
    groups
      .filter((g) => g.kind === 'near')
      .map((g) =>
        g.members
          .map((m) => m.path)
          .sort()
          .join('|'),
      ),
  );
  return planted.filter((c) => near.has([...c].sort().join('|'))).length;
}

/** The service's search index over a synthetic library's vectors (`approximateFrom` as CompactIndex takes it). */
function searchIndexOf(
  photos: readonly GroupingPhoto[],
  index: VectorIndex,
  dim: number,
  approximateFrom?: number,
): CompactIndex {
  const search = new CompactIndex(dim, (id) => index.get(id), photos.length, approximateFrom);
  for (const p of photos) search.upsert(p.id, index.get(p.id)!);
  return search;
}

/**
 * The extra searches of "find cropped copies" in a duplicate scan: four corner views a photo, each a query for
 * the photos whose own vector is close to it (viewNeighbours, as the service runs it). Synthetic views: each
 * photo's vector with noise (cosine ~0.95 to it), so every view has a near photo, as a crop's would.
 */
async function viewQueriesSeconds(photos: readonly GroupingPhoto[], index: CompactIndex): Promise<number> {
  const rand = rng(7);
  const ids = photos.map((p) => p.id).sort((a, b) => a - b);
  // Made as the scan asks for them (as the library reads them), a page at a time.
  let at = 0;
  const pages = (after: number, limit: number) => {
    while (at < ids.length && ids[at]! <= after) at++;
    return ids.slice(at, at + limit).map((id) => {
      const v = index.get(id)!;
      return [
        id,
        Array.from({ length: 4 }, () => Float32Array.from(v, (x) => Math.max(0, x + (rand() - 0.5) * 0.02))),
      ] as const;
    });
  };
  const t0 = performance.now();
  await viewNeighbours(pages, index, viewStretch(0.87, 0.937), 0.81);
  return (performance.now() - t0) / 1000;
}

/**
 * The duplicate scan (all three tiers) over synthetic libraries: one exact kNN query per photo (VectorIndex,
 * O(n^2 * dim) in all) at 1,000 and 10,000 photos; at 100,000 through the search index and its k-means cells.
 */
async function dupesBench(): Promise<Record<string, unknown>> {
  const dim = modelDim();
  const opts = { kinds: ['exact', 'near', 'similar'] as const, near: 0.98, similar: 0.9 };
  const runs: Record<string, unknown>[] = [];
  for (const n of [1_000, 10_000]) {
    const { photos, index, planted } = syntheticLibrary(n, dim);
    const t0 = performance.now();
    const groups = groupDuplicates({ photos, vectors: index }, { ...opts, kinds: [...opts.kinds] });
    const seconds = (performance.now() - t0) / 1000;
    const count = (kind: string): number => groups.filter((g) => g.kind === kind).length;
    runs.push({
      photos: n,
      measured: 'full scan',
      seconds: Number(seconds.toFixed(2)),
      groups: { exact: count('exact'), near: count('near'), similar: count('similar') },
      plantedNearClusters: planted.length,
      recoveredExactly: recovered(groups, planted),
    });
    log(`dupes: ${n} photos in ${seconds.toFixed(1)} s, ${groups.length} groups`);
    if (n === 10_000) {
      // With "find cropped copies": the same scan through the service's search index (exact at this size), then
      // the views' searches.
      const search = searchIndexOf(photos, index, dim);
      const t1 = performance.now();
      groupDuplicates({ photos, vectors: search }, { ...opts, kinds: [...opts.kinds] });
      const scan = (performance.now() - t1) / 1000;
      const views = await viewQueriesSeconds(photos, search);
      runs.push({
        photos: n,
        measured: 'full scan through the search index (exact), then the corner views of find cropped copies',
        seconds: Number(scan.toFixed(2)),
        viewQueriesSeconds: Number(views.toFixed(2)),
      });
      log(`dupes: ${n} photos through the search index in ${scan.toFixed(1)} s, views ${views.toFixed(1)} s`);
    }
  }
  // A library between SCAN_CELLS_FROM and APPROXIMATE_FROM: the whole-library scan exact (as it was) against
  // through a partition (as it is now), with the share of the exact scan's pairs the cells find.
  {
    const mid = Number(process.env.DOPPEL_BENCH_DUPES_MID ?? 20_000);
    const { photos, index } = syntheticLibrary(mid, dim);
    const exact = searchIndexOf(photos, index, dim, Infinity);
    let t = performance.now();
    const truth = exact.neighboursWithin(opts.similar, 32);
    const exactSeconds = (performance.now() - t) / 1000;
    const cells = searchIndexOf(photos, index, dim);
    t = performance.now();
    cells.buildPartition();
    const trainSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const found = cells.neighboursWithin(opts.similar, 32);
    const cellSeconds = (performance.now() - t) / 1000;
    let pairs = 0;
    let hits = 0;
    for (const [id, list] of truth) {
      const got = new Set((found.get(id) ?? []).map((n) => n.id));
      pairs += list.length;
      hits += list.filter((n) => got.has(n.id)).length;
    }
    runs.push({
      photos: mid,
      measured: 'whole-library scan of the search index: exact, and through a partition (trained apart)',
      exactSeconds: Number(exactSeconds.toFixed(1)),
      cellsSeconds: Number(cellSeconds.toFixed(1)),
      partitionTrainSeconds: Number(trainSeconds.toFixed(1)),
      cellsFindOfExactPairs: Number((hits / pairs).toFixed(4)),
    });
    log(`dupes: ${mid} photos, exact ${exactSeconds.toFixed(1)} s, cells ${cellSeconds.toFixed(1)} s`);
  }
  // 100,000 photos: the scan as the service runs it on a library this size, through the search index's
  // partition (which the library trains in the background and saves; its training is timed apart).
  const n = 100_000;
  const { photos, index, planted } = syntheticLibrary(n, dim);
  const search = searchIndexOf(photos, index, dim);
  const t0 = performance.now();
  search.buildPartition();
  const trainSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const groups = groupDuplicates({ photos, vectors: search }, { ...opts, kinds: [...opts.kinds] });
  const seconds = (performance.now() - t1) / 1000;
  const views = await viewQueriesSeconds(photos, search);
  const count = (kind: string): number => groups.filter((g) => g.kind === kind).length;
  runs.push({
    photos: n,
    measured: 'full scan through the k-means cells (their training timed apart)',
    seconds: Number(seconds.toFixed(1)),
    viewQueriesSeconds: Number(views.toFixed(1)),
    partitionTrainSeconds: Number(trainSeconds.toFixed(1)),
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
    groups: { exact: count('exact'), near: count('near'), similar: count('similar') },
    plantedNearClusters: planted.length,
    recoveredExactly: recovered(groups, planted),
  });
  log(`dupes: ${n} photos in ${seconds.toFixed(1)} s (cells trained in ${trainSeconds.toFixed(1)} s)`);
  return { dim, thresholds: { near: opts.near, similar: opts.similar }, candidates: 32, runs };
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    // Other work on the machine slows every figure; the 1-minute load average at the start says how busy it was.
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
  },
};
if (!only || only === 'index') report.index = await indexBench();
if (!only || only === 'encode') report.encode = encodeBench();
if (!only || only === 'dupes') report.dupes = await dupesBench();
if (!only || only === 'search') {
  const sizes = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1]!.split(',').map(Number) : undefined;
  report.search = await searchBench(modelDim(), { sizes });
}
// The duplicate review on a real library with planted copies (bench/review.ts): slow, so only when asked for.
if (only === 'review') report.review = await reviewBench();
// The library grid in Chromium (bench/grid.ts): only when asked for.
if (only === 'grid') report.grid = await gridBench();
// Cold start alone (it also runs inside `search`, after the 100,000-photo run).
if (only === 'coldstart') report.coldStart = await coldStart(modelDim(), syntheticVectors(modelDim()));
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
