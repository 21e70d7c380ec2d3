// Small formatting helpers for the views.
import { formatSimilarity } from '../../shared/similarity.js';

/** The last path segment: `/a/b/photo.jpg` -> `photo.jpg`. */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The file name without its extension: the accessible name of a photo. */
export function stem(path: string): string {
  const name = fileName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export function folderOf(path: string): string {
  const name = fileName(path);
  return path.slice(0, Math.max(0, path.length - name.length - 1));
}

/** A similarity on the one scale users read everywhere (src/shared/similarity.ts): `97.86%`. */
export function percent(score: number): string {
  return formatSimilarity(score);
}

export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'estimating…';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${sec} s`;
  return `${sec} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function dimensions(w: number | null, h: number | null): string {
  return w && h ? `${w}×${h}` : 'unknown size';
}

/** A blob: URL for PNG bytes (revoke it when done). */
export function pngUrl(png: Uint8Array): string {
  return URL.createObjectURL(new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** A date section's heading: '2024-03' -> 'March 2024'; 'Unknown date' for a key that is not a month. */
export function monthLabel(key: string): string {
  const match = /^(\d{4})-(\d\d)$/.exec(key);
  const month = match ? Number(match[2]) : 0;
  return match && month >= 1 && month <= 12 && match[1] !== '0000'
    ? `${MONTHS[month - 1]} ${match[1]}`
    : 'Unknown date';
}

/**
 * A photo's date as the date sort takes it: the EXIF capture date as the camera recorded it (its wall clock), else
 * the file's modification time in UTC; '30 May 2008'.
 */
export function photoDate(photo: { takenAt: string | null; mtimeMs: number }): string {
  const taken = photo.takenAt ? /^(\d{4})-(\d\d)-(\d\d)/.exec(photo.takenAt) : null;
  const [year, month, day] = taken
    ? [Number(taken[1]), Number(taken[2]), Number(taken[3])]
    : (() => {
        const d = new Date(photo.mtimeMs);
        return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
      })();
  if (!(month >= 1 && month <= 12) || !Number.isFinite(year)) return 'unknown date';
  return `${day} ${MONTHS[month - 1]!.slice(0, 3)} ${year}`;
}
