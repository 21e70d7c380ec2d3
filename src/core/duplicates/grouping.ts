// Duplicate grouping in three tiers: exact copies (same content hash, and a camera RAW with the JPEG the camera wrote
// of the same shot: "RAW + JPEG", paired by raw-pairs.ts, the RAW kept by default), near duplicates and similar
// photos (cosine similarity of the model's vectors above the tier's threshold).
//
// Groups are tight: a group is built around one reference photo and only photos within the threshold of that
// reference join it, so a chain A~B~C never puts A and C together unless both are close to the reference.
// Candidates come from a k-nearest-neighbour query per photo, never from comparing all pairs.
//
// Groups are deterministic: they depend on the photos' paths, hashes and vectors only, not on ids or on the
// order photos were indexed in. References are chosen greedily, the most connected photo first (most
// neighbours within the threshold, then the highest sum of those similarities, then the smaller path); ties
// between neighbours are broken by path. (One caveat: when more than `candidates` neighbours score exactly the
// same, which ones make the cut depends on the index.)
//
// Each photo lands in at most one group. The near tier runs before the similar one, and a photo grouped as a
// near duplicate is not offered as a look-alike. A set of exact copies takes part in the vector tiers through its
// keeper; when the keeper joins a near group, the whole set joins it (so the group's keeper is chosen among all of
// them), otherwise the set is an exact group. A set never joins a look-alike group: its copies are selected for the
// trash and look-alikes never are, so asking for look-alikes too leaves every exact group as it was.
// "Not a duplicate" answers (by content hash) keep two photos out of the same group in every tier; one that
// pairs a hash with itself keeps that set's copies out of every group.
//
// One file though long: the candidates and the groups are one algorithm, sharing its types, thresholds and the
// tie-breaks above.
import { DoppelError, type DuplicateGroup, type DuplicateKind, type DuplicateMember } from '../../shared/api.js';
import { formatSimilarity } from '../../shared/similarity.js';
import type { Neighbour, NeighbourSource } from '../vectors.js';
import {
  chooseKeeper,
  DEFAULT_KEEPER_OPTIONS,
  keeperComparator,
  type KeeperOptions,
  type KeeperPhoto,
} from './keeper.js';
import { rawCompanions, rawPairReason } from './raw-pairs.js';

export interface GroupingPhoto extends KeeperPhoto {
  id: number;
  /** Content hash; null only for photos that could not be read (they take part by vector only). */
  hash: string | null;
}

/** Queries per searchMany call: bounds the query vectors held at once (2,048 x 512 floats: 4 MB); large enough
 * that an index's fixed cost per call (a native call per IVF list) is spread over many queries. */
const QUERY_CHUNK = 2048;

export interface GroupingInput {
  /** The photos to group (indexed photos of the library); others the index returns are ignored. */
  photos: readonly GroupingPhoto[];
  vectors: NeighbourSource;
  /** "Not a duplicate" answers as content-hash pairs, in either order. */
  notDuplicates?: readonly { hashA: string; hashB: string }[];
  /** More neighbours per photo, found another way (corner views: search/crop-views.ts), scores on the same scale. */
  extraNeighbours?: ReadonlyMap<number, readonly Neighbour[]>;
  /**
   * The duplicate verifier's verdict on two photos (duplicates/verification.ts), undefined when it has none. When
   * given, the near tier holds only pairs verified as the same picture, whatever their score; without it, the near
   * tier is a cosine threshold (for callers with vectors and no pictures, such as the synthetic benchmark).
   */
  verdict?: (a: GroupingPhoto, b: GroupingPhoto, score: number) => PairVerdict | undefined;
}

/** What the verifier decided for a pair (a, b), and what it saw b to be of a. */
export interface PairVerdict {
  same: boolean;
  /** b against a, in words. */
  edits: string[];
  /** Which of the two the verifier saw to be derived from the other (cropped from it, its greyscale, bordered). */
  derived: 'a' | 'b' | null;
}

export interface GroupingOptions {
  kinds: readonly DuplicateKind[];
  /** Cosine similarity a near duplicate must reach against its group's reference. */
  near: number;
  /** Cosine similarity a similar photo must reach against its group's reference; at most `near`. */
  similar: number;
  /** Neighbours fetched per photo (default 32): a near or similar group holds at most this many + 1 contents
   * (each with its exact copies). */
  candidates?: number;
  keeper?: KeeperOptions;
}

export const DEFAULT_CANDIDATES = 32;
/**
 * With a verifier, each photo's VERIFY_TOP most similar others are candidates down to verifyFloor: a copy cut to a
 * corner or under a caption bar often scores below the look-alike threshold against its original, yet is its
 * nearest photo. They can only enter the near tier (verified), never the look-alike one.
 */
export const VERIFY_TOP = 2;
/** How far below the look-alike threshold those candidates reach: twice the gap between the two thresholds. */
export function verifyFloor(near: number, similar: number): number {
  return Math.min(near, similar) - 2 * Math.abs(near - similar);
}
const KIND_ORDER: Record<DuplicateKind, number> = { exact: 0, near: 1, similar: 2 };

export function validateThresholds(near: number, similar: number): void {
  for (const [name, value] of [
    ['near', near],
    ['similar', similar],
  ] as const) {
    if (!Number.isFinite(value) || value < -1 || value > 1) {
      throw new DoppelError(
        'invalid-argument',
        `The ${name} threshold must be a similarity from -100% to 100% (a cosine from -1 to 1), not ${value}`,
      );
    }
  }
  if (similar > near) {
    throw new DoppelError(
      'invalid-argument',
      `The similar threshold (${formatSimilarity(similar)}) must not be above the near-duplicate threshold ` +
        `(${formatSimilarity(near)})`,
    );
  }
}

/** One key for a pair of content hashes in either order. */
export const pairKey = (a: string, b: string): string => (a <= b ? `${a}\n${b}` : `${b}\n${a}`);
const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * What grouping works from: the photos in path order, the exact-copy sets, and each representative's candidates
 * (its neighbours at or above the floor, one per content, best first). Made once by findCandidates; a caller that
 * verifies pairs reads candidatePairs from it, then groups with the verdicts (groupDuplicates' third argument).
 */
export interface Candidates {
  readonly photos: readonly GroupingPhoto[];
  readonly byId: ReadonlyMap<number, GroupingPhoto>;
  readonly rank: ReadonlyMap<number, number>;
  /** Photo id -> the id of the photo that stands for its content in the vector tiers. */
  readonly standsFor: ReadonlyMap<number, number>;
  /** Representative id -> its exact copies, and the RAW + JPEG pairs they are part of (keeper first). */
  readonly copiesOf: ReadonlyMap<number, GroupingPhoto[]>;
  /** A camera's JPEG (or HEIF) id -> the RAW it was shot with (rawCompanions). */
  readonly companionOf: ReadonlyMap<number, GroupingPhoto>;
  /** The representatives with vectors, in path order. */
  readonly reps: readonly GroupingPhoto[];
  /** Representative id -> its candidates; empty when no vector tier was asked for. */
  readonly lists: ReadonlyMap<number, Neighbour[]>;
  readonly notDuplicates: (a: GroupingPhoto, b: GroupingPhoto) => boolean;
}

/**
 * The candidates of the vector tiers. The floor is the near threshold, or the look-alike one when look-alikes are
 * asked for or the pairs will be verified (`verified`; by default, whether the input has a verdict): with a
 * verifier, every pair above the look-alike threshold may be verified into the near tier.
 */
export function findCandidates(
  input: GroupingInput,
  opts: GroupingOptions,
  verified = input.verdict !== undefined,
): Candidates {
  validateThresholds(opts.near, opts.similar);
  const keeperOpts = opts.keeper ?? DEFAULT_KEEPER_OPTIONS;
  const k = Math.max(1, Math.trunc(opts.candidates ?? DEFAULT_CANDIDATES));
  const photos = [...input.photos].sort(byPath);
  const byId = new Map(photos.map((p) => [p.id, p]));
  const rank = new Map(photos.map((p, i) => [p.id, i]));
  const notDup = new Set((input.notDuplicates ?? []).map((p) => pairKey(p.hashA, p.hashB)));
  const notDuplicates = (a: GroupingPhoto, b: GroupingPhoto): boolean =>
    a.hash !== null && b.hash !== null && notDup.has(pairKey(a.hash, b.hash));

  // ---- exact copies: one set per content hash, its keeper first; the keeper stands for the set below.
  const byHash = new Map<string, GroupingPhoto[]>();
  for (const p of photos) {
    if (p.hash === null) continue;
    const set = byHash.get(p.hash);
    if (set) set.push(p);
    else byHash.set(p.hash, [p]);
  }
  const compareKeepers = keeperComparator(keeperOpts);
  const companionOf = rawCompanions(photos, notDuplicates);
  /** For the keeper rules, a camera's JPEG is derived from its RAW (the 'original' rule keeps the RAW). */
  const asKeeper = (p: GroupingPhoto): GroupingPhoto => (companionOf.has(p.id) ? { ...p, derived: true } : p);
  const compare = (a: GroupingPhoto, b: GroupingPhoto) => compareKeepers(asKeeper(a), asKeeper(b));
  /** Sets answered "not a duplicate" of themselves (the user keeps those copies on purpose) are left out: their
   * representative takes part alone. */
  const copiesOf = new Map<number, GroupingPhoto[]>();
  const standsFor = new Map<number, number>();
  /** Photo id -> its set: the photos of one content, joined by RAW + JPEG pairs. */
  const setOf = new Map<number, GroupingPhoto[]>();
  for (const [hash, set] of byHash) {
    if (set.length < 2) continue;
    if (notDup.has(pairKey(hash, hash))) {
      const keeper = [...set].sort(compare)[0]!;
      for (const p of set) standsFor.set(p.id, keeper.id);
    } else for (const p of set) setOf.set(p.id, set);
  }
  for (const [id, raw] of companionOf) {
    const a = setOf.get(raw.id) ?? [raw];
    const b = setOf.get(id) ?? [byId.get(id)!];
    if (a === b) continue;
    const joined = [...a, ...b];
    for (const p of joined) setOf.set(p.id, joined);
  }
  for (const set of new Set(setOf.values())) {
    const sorted = [...set].sort(compare);
    for (const p of set) standsFor.set(p.id, sorted[0]!.id);
    copiesOf.set(sorted[0]!.id, [sorted[0]!, ...sorted.slice(1).sort(byPath)]);
  }
  const hasVector = (id: number): boolean =>
    input.vectors.has ? input.vectors.has(id) : input.vectors.get(id) !== undefined;
  const reps = photos.filter((p) => (standsFor.get(p.id) ?? p.id) === p.id && hasVector(p.id));
  const lists = new Map<number, Neighbour[]>();
  const result = { photos, byId, rank, standsFor, copiesOf, companionOf, reps, lists, notDuplicates };
  if (!opts.kinds.includes('near') && !opts.kinds.includes('similar')) return result;

  const floor = opts.kinds.includes('similar') || verified ? Math.min(opts.similar, opts.near) : opts.near;
  const reach = verified ? verifyFloor(opts.near, opts.similar) : floor;
  /**
   * Candidates of a representative from its kNN: at or above the floor (or among the VERIFY_TOP best, down to the
   * verifier's reach), one per content, best first, ties by path.
   */
  const candidatesOf = (p: GroupingPhoto, found: readonly Neighbour[]): Neighbour[] => {
    const best = new Map<number, number>();
    for (const n of found) {
      if (n.score < reach) break;
      if (!byId.has(n.id)) continue; // not a photo being grouped (e.g. a vector of a photo with an error)
      // A copy's vector is its content's vector: count it for the photo that stands for that content.
      const id = standsFor.get(n.id) ?? n.id;
      if (id === p.id || notDuplicates(p, byId.get(id)!)) continue;
      best.set(id, Math.max(best.get(id) ?? -Infinity, n.score));
    }
    return [...best]
      .map(([id, score]) => ({ id, score }))
      .sort((a, b) => b.score - a.score || rank.get(a.id)! - rank.get(b.id)!)
      .filter((n, i) => n.score >= floor || i < VERIFY_TOP);
  };
  if (input.vectors.neighboursWithin) {
    // One scan of the whole library. A photo's own exact copies score 1 and take places in its list, so each
    // photo is asked for as many more as the largest set of copies has.
    let copies = 0;
    for (const set of byHash.values()) copies = Math.max(copies, set.length - 1);
    const all = input.vectors.neighboursWithin(reach, k + copies);
    for (const p of reps) lists.set(p.id, candidatesOf(p, all.get(p.id) ?? []));
  } else {
    for (let start = 0; start < reps.length; start += QUERY_CHUNK) {
      const chunk = reps.slice(start, start + QUERY_CHUNK);
      const queries = chunk.map((p) => input.vectors.get(p.id)!);
      // A photo's own exact copies score 1 and would only take places in its neighbour list.
      const excludes = chunk.map(
        (p) => new Set([p.id, ...(p.hash === null ? [] : byHash.get(p.hash)!.map((c) => c.id))]),
      );
      const found = input.vectors.searchMany
        ? input.vectors.searchMany(queries, k, excludes, reach)
        : queries.map((q, i) => input.vectors.search(q, k, excludes[i]));
      chunk.forEach((p, i) => lists.set(p.id, candidatesOf(p, found[i]!)));
    }
  }
  if (input.extraNeighbours) {
    // Neighbours found another way join each photo's list (a copy's through the photo that stands for it).
    const extra = new Map<number, Neighbour[]>();
    for (const [id, found] of input.extraNeighbours) {
      const rep = standsFor.get(id) ?? id;
      extra.set(rep, [...(extra.get(rep) ?? []), ...found]);
    }
    for (const p of reps) {
      const more = extra.get(p.id);
      if (!more) continue;
      const merged = [...(lists.get(p.id) ?? []), ...more].sort((a, b) => b.score - a.score);
      lists.set(p.id, candidatesOf(p, merged));
    }
  }
  return result;
}

/** Every pair a representative's candidates hold (each pair once per direction it was found in): what the near
 * tier asks the verifier about. */
export function candidatePairs(c: Candidates): { a: GroupingPhoto; b: GroupingPhoto; score: number }[] {
  const pairs: { a: GroupingPhoto; b: GroupingPhoto; score: number }[] = [];
  for (const [id, list] of c.lists)
    for (const n of list) pairs.push({ a: c.byId.get(id)!, b: c.byId.get(n.id)!, score: n.score });
  return pairs;
}

/**
 * Groups duplicates; see the file comment for the rules. Pure: no store, no files. `candidates` are the input's
 * (findCandidates), when the caller made them already.
 */
export function groupDuplicates(
  input: GroupingInput,
  opts: GroupingOptions,
  candidates: Candidates = findCandidates(input, opts),
): DuplicateGroup[] {
  validateThresholds(opts.near, opts.similar);
  const keeperOpts = opts.keeper ?? DEFAULT_KEEPER_OPTIONS;
  const { byId, copiesOf, companionOf, reps, lists, notDuplicates } = candidates;
  const rank = candidates.rank;
  const groups: DuplicateGroup[] = [];
  /** A representative with its copies, every one at the representative's score. */
  const withCopies = (rep: GroupingPhoto, score: number) => (copiesOf.get(rep.id) ?? [rep]).map((p) => ({ p, score }));

  const assigned = new Set<number>();
  const wantNear = opts.kinds.includes('near') || opts.kinds.includes('similar');
  const wantSimilar = opts.kinds.includes('similar');
  if (wantNear) {
    const tiers: [DuplicateKind, number][] = [['near', opts.near]];
    if (wantSimilar) tiers.push(['similar', opts.similar]);
    const verdict = input.verdict;
    const verified = (a: number, b: number, score: number): PairVerdict | undefined => {
      const v = verdict?.(byId.get(a)!, byId.get(b)!, score);
      return v?.same ? v : undefined;
    };
    for (const [kind, threshold] of tiers) {
      // With a verifier, near duplicates are the verified pairs, look-alikes the others above their threshold.
      /** A set of exact copies (or a RAW + JPEG pair) takes part in the near tier only. */
      const takesPart = (id: number): boolean => !assigned.has(id) && !(kind === 'similar' && copiesOf.has(id));
      const within = (id: number): Neighbour[] =>
        (lists.get(id) ?? []).filter(
          (n) =>
            takesPart(n.id) &&
            (verdict && kind === 'near' ? verified(id, n.id, n.score) !== undefined : n.score >= threshold),
        );
      const order = reps
        .filter((p) => takesPart(p.id))
        .map((p) => {
          const close = within(p.id);
          return { p, degree: close.length, weight: close.reduce((s, n) => s + n.score, 0) };
        })
        .filter((c) => c.degree > 0)
        .sort((a, b) => b.degree - a.degree || b.weight - a.weight || rank.get(a.p.id)! - rank.get(b.p.id)!);
      for (const { p: ref } of order) {
        if (assigned.has(ref.id)) continue;
        const accepted: { p: GroupingPhoto; score: number }[] = [{ p: ref, score: 1 }];
        const derived = new Set<number>();
        for (const n of within(ref.id)) {
          const candidate = byId.get(n.id)!;
          if (accepted.some((a) => notDuplicates(a.p, candidate))) continue;
          const v = kind === 'near' && verdict ? verified(ref.id, n.id, n.score) : undefined;
          if (v?.derived === 'a') derived.add(ref.id);
          if (v?.derived === 'b') derived.add(n.id);
          accepted.push({ p: candidate, score: n.score });
        }
        // Exact copies of the members come along, so every photo is in one group and kept or not in one place.
        const withTheirCopies = (members: typeof accepted) =>
          members.flatMap((a) =>
            withCopies(a.p, a.score).map((c) => ({
              ...c,
              rep: a.p,
              derived: derived.has(a.p.id) || companionOf.has(c.p.id),
            })),
          );
        const keeperOf = (members: ReturnType<typeof withTheirCopies>) =>
          chooseKeeper(
            members.map((a) => ({ ...a.p, derived: a.derived })),
            keeperOpts,
          );
        let members = accepted;
        let all = withTheirCopies(members);
        let keeper = keeperOf(all);
        if (kind === 'near' && verdict) {
          // What leaves the library is a copy of what stays: a member the verifier measured against the keeper and
          // found to be another picture leaves the group (linked through the reference alone: another shot of a
          // scene whose keypoints fit a crop of it). The keeper may change with it, so again until none leaves.
          for (;;) {
            const kept = all.find((a) => a.p.id === keeper.id)!.rep;
            const consistent = members.filter(
              (a) => a.p.id === kept.id || a.p.id === ref.id || verdict(kept, a.p, 1)?.same !== false,
            );
            if (consistent.length === members.length) break;
            members = consistent;
            all = withTheirCopies(members);
            keeper = keeperOf(all);
          }
        }
        if (members.length < 2) continue;
        for (const a of members) assigned.add(a.p.id);
        const keeperRep = all.find((a) => a.p.id === keeper.id)!.rep;
        /** What a member is against the keeper, as the verifier saw it (else against the reference). */
        const editsOf = (a: (typeof all)[number]): string[] => {
          if (a.p.id === keeper.id) return [];
          if (a.rep.id === keeperRep.id) return [copyReason(a.p, keeper)];
          const v =
            kind === 'near' && verdict
              ? (verdict(keeperRep, a.rep, a.score) ?? verdict(ref, a.rep, a.score))
              : undefined;
          return [...(v?.edits ?? []), ...(a.rep === a.p ? [] : [copyReason(a.p, a.rep)])];
        };
        pushGroup(
          groups,
          kind,
          ref,
          keeper,
          all.map((a) => member(a.p, a.score, a.p.id === keeper.id, editsOf(a))),
        );
      }
    }
  }

  // ---- exact sets that no vector group took in.
  for (const [repId, set] of copiesOf) {
    if (assigned.has(repId)) continue;
    const keeper = set[0]!;
    pushGroup(
      groups,
      'exact',
      keeper,
      keeper,
      set.map((p) => member(p, 1, p === keeper, p === keeper ? [] : [copyReason(p, keeper)])),
    );
  }

  return groups
    .filter((g) => opts.kinds.includes(g.kind))
    .sort(
      (a, b) =>
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        b.members.length - a.members.length ||
        byPath({ path: a.reference }, { path: b.reference }),
    );
}

/** Why `p` is in a group with `of` without the verifier: the same bytes, or the two files of one shot. */
function copyReason(p: GroupingPhoto, of: GroupingPhoto): string {
  if (p.hash !== null && p.hash === of.hash) return 'exact copy';
  return rawPairReason(p, of);
}

function member(p: GroupingPhoto, score: number, isKeeper: boolean, edits: string[]): DuplicateMember {
  return {
    edits,
    path: p.path,
    photoId: p.id,
    score,
    keep: isKeeper || p.referenceFolder,
    referenceFolder: p.referenceFolder,
    size: p.size,
    width: p.width,
    height: p.height,
    format: p.format,
  };
}

/**
 * Adds a group unless nothing in it could be removed (every member kept: all in reference folders). Members:
 * the reference first, then by similarity to it, then by path.
 */
function pushGroup(
  groups: DuplicateGroup[],
  kind: DuplicateKind,
  reference: GroupingPhoto,
  keeper: GroupingPhoto,
  members: DuplicateMember[],
): void {
  if (members.every((m) => m.keep)) return;
  const [first, ...rest] = [
    members.find((m) => m.photoId === reference.id)!,
    ...members.filter((m) => m.photoId !== reference.id),
  ];
  rest.sort((a, b) => b.score - a.score || byPath(a, b));
  groups.push({ kind, reference: reference.path, keeper: keeper.path, members: [first!, ...rest] });
}
