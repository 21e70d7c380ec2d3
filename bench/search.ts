// The `search` section of `npm run bench`: library-scale find-similar and duplicate candidate scans over the
// int8 search layer (src/core/search/search-index.ts), on synthetic clustered vectors of the model's dimension.
// Vectors are regenerated from their id on demand (the float32 re-rank source), so no float32 copy of the
// library is resident and the RSS figure at 1M is the index's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupDuplicates, type GroupingPhoto } from '../src/core/duplicates/grouping.js';
import { defaultModelsDir } from '../src/core/paths.js';
import { CompactIndex, HnswScan, IvfScan, scanSource } from '../src/core/search/search-index.js';
import { normalise } from '../src/core/search/vector-index.js';
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

function latency(
  index: CompactIndex | HnswScan | IvfScan,
  vector: (id: number) => Float32Array,
  n: number,
  queries: number,
) {
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
    };
    const store = Store.open(dbPath);
    const modelId = store.ensureModel({ name, dim, inputSize: card.inputSize });
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
    store.close();
    log(`search: cold start database of ${n} photos written`);
    const t0 = performance.now();
    const service = await DoppelService.open({ dbPath, modelsDir });
    const opened = performance.now() - t0;
    const results = await service.similarToPhoto(1, 10);
    const total = performance.now() - t0;
    await service.close();
    log(`search: cold start ${Math.round(total)} ms (open ${Math.round(opened)} ms)`);
    return {
      photos: n,
      openMs: Math.round(opened),
      firstAnswerMs: Math.round(total),
      results: results.length,
      note: 'database just written, so in the page cache (a warm-disk cold start); includes loading the model',
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
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
      buildSeconds: round(buildSeconds),
      exact: latency(index, vector, n, n >= 1_000_000 ? 40 : 100),
      indexBytesPerPhoto: Math.round(index.bytes / n),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      rssGrowthBytesPerPhoto: Math.round((process.memoryUsage().rss - rss0) / n),
    };
    log(`search: ${n} photos: ${JSON.stringify(run)}`);
    if (n <= 10_000) {
      // The exact path against a brute-force float32 search.
      let hits = 0;
      const queries = 30;
      for (let i = 0; i < queries; i++) {
        const id = 1 + ((i * 7919) % n);
        const truth = new Set(exactTop(vector, n, vector(id), 10, id));
        hits += index.search(vector(id), 10, new Set([id])).filter((r) => truth.has(r.id)).length;
      }
      run.exactRecallAt10 = round(hits / (queries * 10), 4);
    }
    if (n <= 100_000) {
      // The duplicate candidate scan: groupDuplicates through scanSource (HNSW past 20,000 photos).
      const t1 = performance.now();
      const source = scanSource(index);
      const built = (performance.now() - t1) / 1000;
      const groups = groupDuplicates(
        { photos: photosOf(n), vectors: source },
        { kinds: ['near', 'similar'], near: 0.98, similar: 0.9 },
      );
      const scanSeconds = (performance.now() - t1) / 1000;
      const approximate = source instanceof IvfScan;
      run.duplicateScan = {
        how: approximate
          ? 'IVF (sqrt(n) k-means lists, 16 probes, usearch int8 kernel) + exact re-rank'
          : 'exact int8 scan per photo',
        buildSeconds: approximate ? round(built, 1) : 0,
        totalSeconds: round(scanSeconds, 1),
        nearGroups: groups.filter((g) => g.kind === 'near').length,
        plantedNearCopies: Math.floor(n / 50),
      };
      if (approximate) {
        let hits = 0;
        const queries = 200;
        for (let i = 0; i < queries; i++) {
          const id = 1 + ((i * 7919) % n);
          const truth = new Set(index.search(vector(id), 10, new Set([id])).map((r) => r.id));
          hits += source.search(vector(id), 10, new Set([id])).filter((r) => truth.has(r.id)).length;
        }
        run.ivfRecallAt10VsExact = round(hits / (queries * 10), 4);
      }
      log(`search: ${n} photos: duplicate scan ${JSON.stringify(run.duplicateScan)}`);
    }
    runs.push(run);
    if (n === 100_000 && !opts.skipCold) coldStartResult = await coldStart(dim, vector);
  }
  return { dim, k: 10, runs, coldStart: coldStartResult };
}
