// Which photo of a duplicate group to keep: ordered, editable rules (see KeeperRule in src/shared/api.ts).
// Photos in reference folders always win; the last resort is the path, so the choice never depends on ids or
// on the order photos were indexed in.
import { KEEPER_RULES, type KeeperRule } from '../../shared/api.js';
import { isInside } from '../paths.js';

/** What the keeper rules look at. PhotoInfo has all of it; `referenceFolder` comes from the photo's folder. */
export interface KeeperPhoto {
  path: string;
  size: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  format: string | null;
  takenAt: string | null;
  orientation: number | null;
  referenceFolder: boolean;
  /** The duplicate verifier saw this photo to be derived from another one of its group (cropped, greyscale, ...). */
  derived?: boolean;
}

export interface KeeperOptions {
  rules: readonly KeeperRule[];
  /** Format names, preferred first; formats not listed come after every listed one. */
  formatPreference: readonly string[];
  /** Absolute folder paths, preferred first. */
  preferredFolders: readonly string[];
}

/** Every rule, in the order KEEPER_RULES lists them (the contract's list is the default order). */
export const DEFAULT_KEEPER_RULES: readonly KeeperRule[] = KEEPER_RULES;

/**
 * Originals before derived copies: camera RAW (once RAW files are indexed), HEIF (sharp names HEIC and AVIF so),
 * lossless TIFF and PNG, then the lossy and palette formats.
 */
export const DEFAULT_FORMAT_PREFERENCE: readonly string[] = ['raw', 'heif', 'tiff', 'png', 'webp', 'jpeg', 'gif'];

export const DEFAULT_KEEPER_OPTIONS: KeeperOptions = {
  rules: DEFAULT_KEEPER_RULES,
  formatPreference: DEFAULT_FORMAT_PREFERENCE,
  preferredFolders: [],
};

const pixels = (p: KeeperPhoto): number => (p.width ?? 0) * (p.height ?? 0);

/**
 * How much capture metadata the store has for the photo: its EXIF capture date. (Not its orientation tag: a copy
 * turned by that tag alone has one its original may lack.)
 */
export const exifRichness = (p: KeeperPhoto): number => (p.takenAt !== null ? 1 : 0);

/**
 * Capture time in ms: EXIF dates without an offset are read as UTC (they are wall-clock times; comparing them
 * with each other is what matters). Falls back to the file's mtime.
 */
export function captureTime(p: KeeperPhoto): number {
  if (p.takenAt) {
    const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(p.takenAt);
    const t = Date.parse(hasZone ? p.takenAt : `${p.takenAt}Z`);
    if (Number.isFinite(t)) return t;
  }
  return p.mtimeMs;
}

/** A comparator for Array.prototype.sort: the photo to keep first. Total and deterministic. */
export function keeperComparator(opts: KeeperOptions): (a: KeeperPhoto, b: KeeperPhoto) => number {
  const formatRank = (p: KeeperPhoto): number => {
    const i = p.format ? opts.formatPreference.indexOf(p.format.toLowerCase()) : -1;
    return i < 0 ? opts.formatPreference.length : i;
  };
  const folderRank = (p: KeeperPhoto): number => {
    const i = opts.preferredFolders.findIndex((f) => isInside(p.path, f));
    return i < 0 ? opts.preferredFolders.length : i;
  };
  const byRule: Record<KeeperRule, (a: KeeperPhoto, b: KeeperPhoto) => number> = {
    resolution: (a, b) => pixels(b) - pixels(a),
    format: (a, b) => formatRank(a) - formatRank(b),
    'file-size': (a, b) => b.size - a.size,
    original: (a, b) => (a.derived ? 1 : 0) - (b.derived ? 1 : 0),
    exif: (a, b) => exifRichness(b) - exifRichness(a),
    oldest: (a, b) => captureTime(a) - captureTime(b) || a.mtimeMs - b.mtimeMs,
    'preferred-folder': (a, b) => folderRank(a) - folderRank(b),
  };
  const rules = opts.rules.map((r) => byRule[r]);
  return (a, b) => {
    if (a.referenceFolder !== b.referenceFolder) return a.referenceFolder ? -1 : 1;
    for (const rule of rules) {
      const d = rule(a, b);
      if (d !== 0) return d;
    }
    return a.path.length - b.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  };
}

/** The photo to keep among `photos` (not empty). */
export function chooseKeeper<T extends KeeperPhoto>(photos: readonly T[], opts: KeeperOptions): T {
  if (photos.length === 0) throw new Error('chooseKeeper: no photos');
  const compare = keeperComparator(opts);
  return photos.reduce((best, p) => (compare(p, best) < 0 ? p : best));
}
