// RAW + JPEG pairs: a camera RAW and the JPEG (or HEIF) the camera wrote of the same shot, found by folder, file name
// and capture time. Grouping (grouping.ts) counts such a pair as exact copies, the camera's file derived from the RAW.
import path from 'node:path';
import { captureTime, type KeeperPhoto } from './keeper.js';

/** A photo as pairing sees it: its id and what the keeper rules see (it pairs by path, format, capture time). */
export interface ShotPhoto extends KeeperPhoto {
  id: number;
}

/** The formats a camera writes beside a RAW of the same shot, and their names in the pair's reason. */
const RAW_COMPANIONS: Readonly<Record<string, string>> = { jpeg: 'JPEG', heif: 'HEIF' };
/** Two capture times further apart than this are two shots, whatever their names. */
const SAME_SHOT_MS = 2000;

/** The folder and the lower-case name without its extension: what a camera gives both files of a shot. */
function shotKey(p: string): string {
  const ext = path.extname(p);
  return `${path.dirname(p)}\0${path.basename(p, ext).toLowerCase()}`;
}

/**
 * RAW + JPEG pairs: a camera RAW and the JPEG (or HEIF) the camera wrote of the same shot, told by the same folder
 * and file name but for the extension (case aside: IMG_0042.CR2 and IMG_0042.JPG), and the same capture time where
 * both have one. Companion id -> its RAW; pairs answered "not a duplicate" are not pairs.
 */
export function rawCompanions<P extends ShotPhoto>(
  photos: readonly P[],
  notDuplicates: (a: P, b: P) => boolean = () => false,
): Map<number, P> {
  const raws = new Map<string, P[]>();
  for (const p of photos) {
    if (p.format !== 'raw') continue;
    const key = shotKey(p.path);
    raws.set(key, [...(raws.get(key) ?? []), p]);
  }
  const pairs = new Map<number, P>();
  if (raws.size === 0) return pairs;
  for (const p of photos) {
    if (p.format === null || !(p.format in RAW_COMPANIONS)) continue;
    const raw = raws
      .get(shotKey(p.path))
      ?.find(
        (r) =>
          !notDuplicates(r, p) &&
          (r.takenAt === null || p.takenAt === null || Math.abs(captureTime(r) - captureTime(p)) <= SAME_SHOT_MS),
      );
    if (raw) pairs.set(p.id, raw);
  }
  return pairs;
}

/** The reason a photo and its RAW + JPEG partner are in one group, e.g. 'RAW + JPEG' or 'RAW + HEIF'. */
export function rawPairReason(p: ShotPhoto, of: ShotPhoto): string {
  const companion = p.format === 'raw' ? of : p;
  return `RAW + ${RAW_COMPANIONS[companion.format ?? ''] ?? 'JPEG'}`;
}
