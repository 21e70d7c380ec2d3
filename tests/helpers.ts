// Shared test helpers: real photos from ../shared/data, temporary folders, image statistics.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../src/core/store/repository.js';

export const DATA = path.resolve(import.meta.dirname, '../../shared/data');
export const PHOTOS = path.join(DATA, 'photos');
export const REPO = path.resolve(import.meta.dirname, '..');

export function tempDir(prefix = 'doppel-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A trash of its own under `dir`: HOME is `dir`/home and XDG_DATA_HOME its `data`, so the freedesktop trash is
 * `dir`/home/data/Trash (returned). Call it at a test file's top, before anything moves: the `trash` package reads
 * them once.
 */
export function useTempTrash(dir: string): string {
  fs.mkdirSync(path.join(dir, 'home'));
  process.env.HOME = path.join(dir, 'home');
  process.env.XDG_DATA_HOME = path.join(dir, 'home', 'data');
  return path.join(dir, 'home', 'data', 'Trash');
}

/** The first `n` files (sorted) of a photos sub-folder. */
export function photos(folder: string, n: number): string[] {
  const dir = path.join(PHOTOS, folder);
  return fs
    .readdirSync(dir)
    .sort()
    .slice(0, n)
    .map((f) => path.join(dir, f));
}

export function copyInto(files: readonly string[], dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const dest = path.join(dir, path.basename(f));
    fs.copyFileSync(f, dest);
    return dest;
  });
}

/** Pearson correlation of two equally long byte arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Cosine similarity of two equally long vectors: the engine's own (src/core/vectors.ts). */
export { cosine } from '../src/core/vectors.js';

export function std(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]!;
  m /= a.length;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return Math.sqrt(s / a.length);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** A DeletionDate as the `trash` package writes it (local time). */
export const trashDeletionDate = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/**
 * Writes a .trashinfo for `file` into `trash` as the `trash` package does (before it moves the file); returns the
 * entry's name.
 */
export function writeTrashInfo(trash: string, file: string, when = new Date()): string {
  const name = crypto.randomUUID();
  fs.mkdirSync(path.join(trash, 'info'), { recursive: true });
  fs.mkdirSync(path.join(trash, 'files'), { recursive: true });
  fs.writeFileSync(
    path.join(trash, 'info', `${name}.trashinfo`),
    `[Trash Info]\nPath=${encodeURI(file)}\nDeletionDate=${trashDeletionDate(when)}`,
  );
  return name;
}

/**
 * The journal row a trash writes just before it moves `file` (a library photo), as a killed process leaves it;
 * `linkTarget` for a link. Returns the action's id.
 */
export function beginTrashMove(store: Store, file: string, linkTarget?: string): number {
  const photo = store.getPhotoByPath(file)!;
  const actionId = store.beginAction('trash', 'freedesktop');
  store.addActionFile({
    actionId,
    folderId: photo.folderId,
    path: file,
    hash: photo.hash,
    size: photo.size,
    trashPath: null,
    infoPath: null,
    deletedAt: null,
    state: 'moving',
    ...(linkTarget === undefined ? {} : { linkTarget }),
  });
  return actionId;
}

/** Every file and folder under `dir`: path, kind, mode and content hash. */
export function fileTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(p);
      } else {
        const hash = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16);
        out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${hash}`);
      }
    }
  };
  walk(dir);
  return out;
}
