// The `search` section of `npm run bench`: library-scale find-similar and duplicate candidate scans over the
// search layer (src/core/search: int8 rows, exact scan, k-means cells and graph, used by whole-library scans from
// SCAN_CELLS_FROM photos and by searches from APPROXIMATE_FROM, snapshot), on synthetic clustered vectors of the
// model's dimension.
// Vectors are regenerated from their id on demand (the float32 re-rank source), so no float32 copy of the
// library is resident and the RSS figure at 1M is the index's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupDuplicates, type GroupingPhoto } from '../src/core/duplicates/grouping.js';
import { defaultModelsDir } from '../src/core/paths.js';
import { LibrarySearch } from '../src/core/search/library-search.js';
import { APPROXIMATE_FROM, CompactIndex } from '../src/core/search/search-index.js';
import { normalise } from '../src/core/vectors.js';
import { DoppelService } from '../src/core/service.js';
import { Store } from '../src/core/store/repository.js';
import { rng as mulberry } from '../src/core/random.js';

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const round = (x: number, d = 2): number => Number(x.toFixed(d));

/**
 * Clustered, non-negative vectors like the autoencoder's: 2,000 cluster centres; each photo is its centre plus
 * noise (cosine ~0.9 to its centre); every 50th photo is a near copy (cosine ~0.99) of the photo before it.
 */
export function syntheticVectors(dim: number): (id: number) => Float32Array {
  const rand = mulberry(7);
  const centres = Array.from({ length: 2000 }, () => Float32Array.from({ length: dim }, () => rand()));
  const make = (id: number, noise: number, out: Float32Array): Float32Array => {
    const r = mulberry(id * 2654435761);
    const c = centres[Math.floor(r() * centres.length)]!;
    for (let j = 0; j < dim; j++) out[j] = Math.max(0, c[j]! + (r() - 0.5) * noise);
    return out;
  };
  return (id) => {
    const out = make(id - (id % 50 === 0 ? 1 : 0), 0.9, new Float32Array(dim));
    if (id % 50 === 0) {
      const r = mulberry(id);
      for (let j = 0; j < dim; j++) out[j] = Math.max(0, out[j]! + (r() - 0.5) * 0.12);
    }
    return out;
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Brute-force float32 top k (the reference for recall). */
function exactTop(
  vector: (id: number) => Float32Array,
  n: number,
  query: Float32Array,
  k: number,
  self: number,
): number[] {
  const q = normalise(query);
  const best: { id: number; s: number }[] = [];
  for (let id = 1; id <= n; id++) {
    if (id === self) continue;
    const v = normalise(vector(id));
    let s = 0;
    for (let j = 0; j < q.length; j++) s += q[j]! * v[j]!;
    if (best.length < k || s > best[best.length - 1]!.s) {
      best.push({ id, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.id);
}

function photosOf(n: number): GroupingPhoto[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    path: `/library/photo-${String(i + 1).padStart(7, '0')}.jpg`,
    hash: `h${i + 1}`,
    size: 1_000_000,
    mtimeMs: 0,
    width: 4000,
    height: 3000,
    format: 'jpeg',
    takenAt: null,
    orientation: null,
    referenceFolder: false,
  }));
}

function latency(index: CompactIndex, vector: (id: number) => Float32Array, n: number, queries: number) {
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    const id = 1 + ((i * 7919) % n);
    const q = vector(id);
    const t0 = performance.now();
    index.search(q, 10, new Set([id]));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)), queries };
}

/** Opens the library in a new service and asks its first find-similar question. */
async function openAndAsk(
  dbPath: string,
  modelsDir: string,
): Promise<Record<string, unknown> & { firstAnswerMs: number }> {
  const t0 = performance.now();
  const service = await DoppelService.open({ dbPath, modelsDir });
  const opened = performance.now() - t0;
  const results = await service.similarToPhoto(1, 10);
  const total = performance.now() - t0;
  await service.close();
  return { openMs: Math.round(opened), firstAnswerMs: Math.round(total), results: results.length };
}

export async function coldStart(dim: number, vector: (id: number) => Float32Array): Promise<Record<string, unknown>> {
  const n = 100_000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-cold-'));
  try {
    const dbPath = path.join(tmp, 'library.sqlite');
    const modelsDir = defaultModelsDir();
    const { default: name } = JSON.parse(fs.readFileSync(path.join(modelsDir, 'models.json'), 'utf8')) as {
      default: string;
    };
    const card = JSON.parse(fs.readFileSync(path.join(modelsDir, name, 'card.json'), 'utf8')) as {
      inputSize: number;
      vectorsOf?: string;
    };
    const store = Store.open(dbPath);
    // Stored under the name the model's vectors go by (ModelCard.vectorsOf), as the service reads them.
    const modelId = store.ensureModel({ name: card.vectorsOf ?? name, dim, inputSize: card.inputSize });
    const folder = store.addFolder('/library');
    store.transaction(() => {
      for (let id = 1; id <= n; id++) {
        const photoId = store.upsertPhoto({
          folderId: folder.id,
          path: `/library/photo-${id}.jpg`,
          size: 1_000_000,
          mtimeMs: 0,
          hash: `h${id}`,
          width: 4000,
          height: 3000,
          format: 'jpeg',
          takenAt: null,
          orientation: null,
          status: 'indexed',
          error: null,
        });
        store.putVector(photoId, modelId, vector(id));
      }
    });
    log(`search: cold start database of ${n} photos written`);
    // The first open of a library: no snapshot, the index read from SQLite (then saved on close).
    const first = await openAndAsk(dbPath, modelsDir);
    // The library as a user who has used Doppel since has it: its partition trained (as indexing does) and saved.
    const search = LibrarySearch.open({ store, modelId, modelName: name, dim, dir: `${dbPath}.search` });
    const t0 = performance.now();
    search.index.buildPartition();
    const partitionSeconds = (performance.now() - t0) / 1000;
    search.close();
    store.close();
    const files = fs.readdirSync(`${dbPath}.search`).map((f) => fs.statSync(path.join(`${dbPath}.search`, f)).size);
    const again = await openAndAsk(dbPath, modelsDir);
    log(`search: cold start ${again.firstAnswerMs} ms from the snapshot, ${first.firstAnswerMs} ms from SQLite`);
    return {
      photos: n,
      fromSnapshot: again,
      fromDatabase: first,
      partitionTrainSeconds: round(partitionSeconds, 1),
      snapshotBytes: files.reduce((x, y) => x + y, 0),
      note: 'files just written, so in the page cache (a warm-disk cold start); includes loading the model',
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Recall@10 of `index` against the exact answers (`truth`) for the same queries. */
function recallAgainst(
  index: CompactIndex,
  vector: (id: number) => Float32Array,
  n: number,
  queries: number,
  truth: (id: number) => Set<number>,
): number {
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const id = 1 + ((i * 7919) % n);
    const want = truth(id);
    hits += index.search(vector(id), 10, new Set([id])).filter((r) => want.has(r.id)).length;
  }
  return round(hits / (queries * 10), 4);
}

/** groupDuplicates over the whole index (near 0.98, similar 0.9, 32 candidates), as the service runs it. */
function duplicateScan(index: CompactIndex, n: number): Record<string, unknown> {
  const t0 = performance.now();
  const groups = groupDuplicates(
    { photos: photosOf(n), vectors: index },
    { kinds: ['near', 'similar'], near: 0.98, similar: 0.9 },
  );
  const near = groups.filter((g) => g.kind === 'near');
  // Planted: photo 50j is a near copy of photo 50j - 1.
  let found = 0;
  const byPhoto = new Map<number, number>();
  near.forEach((g, i) => g.members.forEach((m) => byPhoto.set(m.photoId, i)));
  for (let id = 50; id <= n; id += 50) if (byPhoto.has(id) && byPhoto.get(id) === byPhoto.get(id - 1)) found++;
  return {
    how: index.approximate
      ? `k-means cells (${index.partition!.cells}), each photo against the rows of its 4 nearest cells, exact re-rank`
      : 'exact int8 scan per photo, exact re-rank',
    seconds: round((performance.now() - t0) / 1000, 1),
    nearGroups: near.length,
    similarGroups: groups.length - near.length,
    plantedNearCopies: Math.floor(n / 50),
    plantedFoundTogether: found,
  };
}

export async function searchBench(dim: number, opts: { sizes?: number[]; skipCold?: boolean } = {}) {
  const vector = syntheticVectors(dim);
  const runs: Record<string, unknown>[] = [];
  const sizes = opts.sizes ?? [10_000, 100_000, 1_000_000];
  let coldStartResult: Record<string, unknown> | undefined;
  for (const n of sizes) {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const index = new CompactIndex(dim, vector, n);
    for (let id = 1; id <= n; id++) index.upsert(id, vector(id));
    const buildSeconds = (performance.now() - t0) / 1000;
    globalThis.gc?.();
    const run: Record<string, unknown> = {
      photos: n,
      loadAverage: round(os.loadavg()[0]!),
      rowsBuildSeconds: round(buildSeconds),
      exact: latency(index, vector, n, n >= 1_000_000 ? 40 : 100),
      indexBytesPerPhoto: Math.round(index.bytes / n),
    };
    log(`search: ${n} photos: ${JSON.stringify(run)}`);
    if (n <= 10_000) {
      // The exact path against a brute-force float32 search.
      run.exactRecallAt10 = recallAgainst(
        index,
        vector,
        n,
        30,
        (id) => new Set(exactTop(vector, n, vector(id), 10, id)),
      );
    }
    if (n >= APPROXIMATE_FROM) {
      // The exact answers first (the partition, once there, is used by search()).
      const queries = n >= 1_000_000 ? 50 : 200;
      const truth = new Map<number, Set<number>>();
      for (let i = 0; i < queries; i++) {
        const id = 1 + ((i * 7919) % n);
        truth.set(id, new Set(index.search(vector(id), 10, new Set([id])).map((r) => r.id)));
      }
      const t1 = performance.now();
      const partition = index.buildPartition();
      const trainSeconds = (performance.now() - t1) / 1000;
      globalThis.gc?.();
      run.partition = {
        cells: partition.cells,
        trainSeconds: round(trainSeconds, 1),
        threads: os.availableParallelism(),
        bytesPerPhoto: round(partition.bytes / n, 1),
        indexBytesPerPhoto: Math.round(index.bytes / n),
        ...latency(index, vector, n, 200),
        recallAt10VsExact: recallAgainst(index, vector, n, queries, (id) => truth.get(id)!),
      };
      log(`search: ${n} photos: partition ${JSON.stringify(run.partition)}`);
    }
    run.rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
    run.rssGrowthBytesPerPhoto = Math.round((process.memoryUsage().rss - rss0) / n);
    run.duplicateScan = duplicateScan(index, n);
    log(`search: ${n} photos: duplicate scan ${JSON.stringify(run.duplicateScan)}`);
    runs.push(run);
    if (n === 100_000 && !opts.skipCold) coldStartResult = await coldStart(dim, vector);
  }
  return { dim, k: 10, approximateFrom: APPROXIMATE_FROM, runs, coldStart: coldStartResult };
}
