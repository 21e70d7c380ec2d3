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
