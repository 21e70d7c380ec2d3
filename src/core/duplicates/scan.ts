// The duplicate scan of the whole library: candidate pairs from the search index (the photos' own vectors, their
// corner views and turned views), the pairs verified (verification.ts), then grouped in tiers (grouping.ts). A
// complete scan's groups are kept in the library with its generation (store/duplicate-scans.ts): a scan of a library
// that has not changed since reads them back instead of searching and verifying again.
import type { DuplicateGroup, DuplicateKind, DuplicateQuery, DuplicateScanProgress } from '../../shared/api.js';
import { viewNeighbours } from '../search/crop-views.js';
import type { CompactIndex } from '../search/search-index.js';
import { turnNeighbours } from '../search/turn-views.js';
import type { Store } from '../store/repository.js';
import { rescoreWithEncodedViews, type EncodedViewsDeps } from './encoded-views.js';
import { candidatePairs, findCandidates, groupDuplicates, verifyFloor, type GroupingPhoto } from './grouping.js';
import type { KeeperOptions } from './keeper.js';
import { measurePairs, verdictOf } from './verification.js';
import { VERIFIER_VERSION } from './verify.js';
import type { VerifierPool } from './verify-pool.js';

/**
 * Moves on whenever the scan's code would group the same library differently (with VERIFIER_VERSION, which moves on
 * when the verifier's measures change): groups kept by older code are not read back.
 */
export const SCAN_VERSION = 1;

/** Exact vectors a scan keeps once read (float32: 2 KB each at 512 dimensions, so at most ~100 MB). */
const EXACT_KEPT = 50_000;

/** "Find cropped copies" as the model card and settings have it: the views' crop and score scales. */
export interface CropViewsSetup {
  fraction: number;
  stretch: number;
  encodedStretch?: number;
}

/** What a scan works with: the library, the model's index and encoder, the settings in force, the verifier. */
export interface ScanSetup extends Omit<EncodedViewsDeps, 'store' | 'modelId'> {
  store: Store;
  modelId: number;
  /** The thresholds in force (the settings', else the model card's). */
  near: number;
  similar: number;
  keeper: KeeperOptions;
  crops: CropViewsSetup | null;
  /** The search index for a whole-library scan. */
  index: () => Promise<CompactIndex>;
  pool: () => VerifierPool;
  /** Where a scan that searches stands (views and turned views searched, pairs to verify, done). */
  onProgress?: (progress: DuplicateScanProgress) => void;
}

/** What a scan did: read kept groups, or searched (and verified: pairs measured now, read back, left unverified). */
export interface ScanReport {
  stored: boolean;
  verification: { fresh: number; cached: number; skipped: number } | null;
}

/** The groups of `query` over the library, and what the scan did. `query.rescan` ignores kept groups. */
export async function scanDuplicates(
  query: DuplicateQuery,
  setup: ScanSetup,
): Promise<{ groups: DuplicateGroup[]; report: ScanReport }> {
  const kinds = query.kinds ?? ['exact', 'near'];
  const near = query.nearThreshold ?? setup.near;
  const similar = query.similarThreshold ?? setup.similar;
  const verify = query.verify !== false;
  const scans = setup.store.duplicateScans;
  // Read before the scan begins: a change while it runs moves the library past it, and its groups are not read back.
  const generation = scans.generation();
  const key = JSON.stringify({
    version: [SCAN_VERSION, VERIFIER_VERSION],
    model: setup.modelId,
    kinds: [...new Set(kinds)].sort(),
    near,
    similar,
    verify,
    keeper: setup.keeper,
    crops: setup.crops,
  });
  if (!query.rescan) {
    const kept = scans.get(key, generation);
    if (kept !== null) {
      return {
        groups: JSON.parse(kept) as DuplicateGroup[],
        report: { stored: true, verification: null },
      };
    }
  }
  // A scan does all its work (each step keeps what it made as it goes, so a stopped scan resumes): the groups are
  // the same for the same library every time, and kept for the next scan to read back.
  const { groups, verification } = await scan(setup, { kinds, near, similar, verify });
  setup.onProgress?.({ step: 'done', done: groups.length, total: groups.length });
  scans.put(key, generation, JSON.stringify(groups));
  return { groups, report: { stored: false, verification } };
}

async function scan(
  setup: ScanSetup,
  { kinds, near, similar, verify }: { kinds: DuplicateKind[]; near: number; similar: number; verify: boolean },
): Promise<{ groups: DuplicateGroup[]; verification: ScanReport['verification'] }> {
  const { store } = setup;
  const reference = new Map(store.listFolders().map((f) => [f.id, f.reference]));
  const total = store.countPhotos({ status: 'indexed' });
  const photos: GroupingPhoto[] = store
    .listPhotos({ limit: total, sort: 'path' })
    .photos.map((p) => ({ ...p, referenceFolder: reference.get(p.folderId) ?? false }));
  const index = await setup.index();
  // Each photo's exact vector read from the library once for the whole scan (2 KB each; at most EXACT_KEPT).
  return index.withExactVectors(EXACT_KEPT, () => scanWith(setup, index, photos, { kinds, near, similar, verify }));
}

async function scanWith(
  setup: ScanSetup,
  index: CompactIndex,
  photos: GroupingPhoto[],
  { kinds, near, similar, verify }: { kinds: DuplicateKind[]; near: number; similar: number; verify: boolean },
): Promise<{ groups: DuplicateGroup[]; verification: ScanReport['verification'] }> {
  const { store, modelId, crops } = setup;
  const progress = (p: DuplicateScanProgress): void => setup.onProgress?.(p);
  // With verification every pair above the look-alike threshold is a candidate for the near tier.
  const floor = kinds.includes('similar') || verify ? Math.min(near, similar) : near;
  // A photo's few most similar others are verified from further down (grouping.ts, VERIFY_TOP).
  const reach = verify ? verifyFloor(near, similar) : floor;
  let extraNeighbours: Map<number, { id: number; score: number }[]> | undefined;
  if (crops && (kinds.includes('near') || kinds.includes('similar'))) {
    // With a second stage, views also bring the pairs between the look-alike and near thresholds, to be re-scored.
    const searchFloor = crops.encodedStretch === undefined ? reach : Math.min(reach, similar);
    const pages = (after: number, limit: number) => store.viewsPage(modelId, crops.fraction, after, limit);
    extraNeighbours = await viewNeighbours(pages, index, crops.stretch, searchFloor, undefined, (done) =>
      progress({ step: 'views', done, total: photos.length }),
    );
    if (crops.encodedStretch !== undefined) {
      const stage = { near, floor: reach, stretch: crops.encodedStretch, fraction: crops.fraction };
      extraNeighbours = await rescoreWithEncodedViews(
        extraNeighbours,
        index,
        stage,
        {
          store,
          modelId,
          inputSpec: setup.inputSpec,
          encode: setup.encode,
          thumbnailDir: setup.thumbnailDir,
        },
        (done, total) => progress({ step: 'encode', done, total }),
      );
    }
  }
  if (verify && (kinds.includes('near') || kinds.includes('similar'))) {
    // Rotated copies: each photo's turned views against the library's vectors (search/turn-views.ts).
    const turnPages = (after: number, limit: number) => store.turnsPage(modelId, after, limit);
    const turned = await turnNeighbours(turnPages, index, reach, undefined, (done) =>
      progress({ step: 'turns', done, total: photos.length }),
    );
    extraNeighbours = mergeNeighbours(extraNeighbours, turned);
  }
  const input = {
    photos,
    vectors: index,
    notDuplicates: store.notDuplicatePairs(),
    ...(extraNeighbours ? { extraNeighbours } : {}),
  };
  const options = { kinds, near, similar, keeper: setup.keeper };
  if (!verify || !(kinds.includes('near') || kinds.includes('similar'))) {
    return { groups: groupDuplicates(input, options), verification: null };
  }
  // Every candidate pair the near tier could take is verified (those measured before are read from the library),
  // then the photos are grouped with the verdicts.
  const candidates = findCandidates(input, options, true);
  const pairs = candidatePairs(candidates);
  const { measures, ...counts } = await measurePairs(pairs, store, setup.pool(), setup.thumbnailDir, (done, total) =>
    progress({ step: 'verify', done, total }),
  );
  // Pairs below the look-alike threshold (the floor here) are held to the stricter rule.
  const verdict = (a: GroupingPhoto, b: GroupingPhoto, score: number) => verdictOf(measures, a, b, score, floor);
  const groups = groupDuplicates({ ...input, verdict }, options, candidates);
  return { groups, verification: counts };
}

/** Two neighbour maps in one (each photo's lists joined, best first). */
function mergeNeighbours(
  a: Map<number, { id: number; score: number }[]> | undefined,
  b: Map<number, { id: number; score: number }[]>,
): Map<number, { id: number; score: number }[]> {
  const out = new Map(a ?? []);
  for (const [id, list] of b)
    out.set(
      id,
      [...(out.get(id) ?? []), ...list].sort((x, y) => y.score - x.score),
    );
  return out;
}
