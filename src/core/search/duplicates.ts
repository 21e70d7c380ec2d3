// Duplicate grouping, a first version: exact copies by content hash, then near duplicates and similar
// photos by vector similarity. Groups are tight and deterministic: photos are visited best-first
// (keeper order), each unassigned photo becomes a reference, and only photos within the threshold of
// that reference join its group (no chains). Candidates come from kNN, never from all pairs.
import type { DuplicateGroup, DuplicateKind, PhotoInfo } from '../../shared/api.js';
import type { Store } from '../store/repository.js';
import type { VectorIndex } from './vector-index.js';

export interface GroupingOptions {
  kinds: DuplicateKind[];
  near: number;
  similar: number;
  /** Neighbours fetched per reference photo. */
  candidates?: number;
}

/** Keeper order: more pixels, then a bigger file, then the older capture date, then the shorter path. */
export function keeperOrder(a: PhotoInfo, b: PhotoInfo): number {
  const pixels = (p: PhotoInfo): number => (p.width ?? 0) * (p.height ?? 0);
  return (
    pixels(b) - pixels(a) ||
    b.size - a.size ||
    (a.takenAt ?? '9999').localeCompare(b.takenAt ?? '9999') ||
    a.path.length - b.path.length ||
    a.path.localeCompare(b.path)
  );
}

export function findDuplicateGroups(store: Store, index: VectorIndex, opts: GroupingOptions): DuplicateGroup[] {
  const total = store.countPhotos({ status: 'indexed' });
  const photos = store.listPhotos({ offset: 0, limit: total, sort: 'path' }).photos;
  const byId = new Map(photos.map((p) => [p.id, p]));
  const groups: DuplicateGroup[] = [];
  const assigned = new Set<number>();

  for (const { ids } of store.photosByHash()) {
    const members = ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])).sort(keeperOrder);
    if (members.length < 2) continue;
    // Every copy but the best one is settled here; the best one stands for the set in the vector tiers.
    for (const m of members.slice(1)) assigned.add(m.id);
    if (opts.kinds.includes('exact')) {
      groups.push({
        kind: 'exact',
        reference: members[0]!.path,
        keeper: members[0]!.path,
        members: members.map((m) => ({ path: m.path, photoId: m.id, score: 1 })),
      });
    }
  }

  const order = [...photos].sort(keeperOrder);
  const tiers: [DuplicateKind, number][] = [
    ['near', opts.near],
    ['similar', opts.similar],
  ];
  for (const [kind, threshold] of tiers) {
    if (!opts.kinds.includes(kind)) continue;
    for (const ref of order) {
      if (assigned.has(ref.id)) continue;
      const vector = index.get(ref.id);
      if (!vector) continue;
      const matches = index
        .search(vector, opts.candidates ?? 64, new Set([ref.id]))
        .filter((n) => n.score >= threshold && !assigned.has(n.id) && byId.has(n.id));
      if (matches.length === 0) continue;
      assigned.add(ref.id);
      for (const m of matches) assigned.add(m.id);
      const members = [
        { path: ref.path, photoId: ref.id, score: 1 },
        ...matches.map((m) => ({ path: byId.get(m.id)!.path, photoId: m.id, score: m.score })),
      ];
      const keeper = [ref, ...matches.map((m) => byId.get(m.id)!)].sort(keeperOrder)[0]!;
      groups.push({ kind, reference: ref.path, keeper: keeper.path, members });
    }
  }
  return groups;
}
