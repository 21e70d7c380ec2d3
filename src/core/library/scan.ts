import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { DoppelError } from '../../shared/api.js';
import { answeredWithin } from './read-file.js';

/** Camera RAW formats (lower case, with the dot): indexed through the JPEG preview the camera embeds in them. */
export const RAW_EXTENSIONS: ReadonlySet<string> = new Set(
  '.dng .cr2 .cr3 .crw .nef .nrw .arw .srf .sr2 .orf .rw2 .raf .pef .srw .x3f'.split(' '),
);

/** File extensions Doppel treats as photos (lower case, with the dot). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.png',
  '.webp',
  '.avif',
  '.tif',
  '.tiff',
  '.gif',
  '.heic',
  '.heif',
  '.jxl',
  '.bmp',
  '.dib',
  '.pbm',
  '.pgm',
  '.ppm',
  '.pnm',
  '.pam',
  ...RAW_EXTENSIONS,
]);

export function isImagePath(p: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(p).toLowerCase());
}

/** Whether a path names a camera RAW file (by its extension). */
export function isRawPath(p: string): boolean {
  return RAW_EXTENSIONS.has(path.extname(p).toLowerCase());
}

/** The formats Doppel reads, for messages and the README. */
export const READABLE_FORMATS =
  'JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC/HEIF, JPEG XL, BMP, Netpbm and camera RAW (through its preview)';

/**
 * Image formats that Doppel's decoders cannot read: a scan reports such files as not indexed, with this reason,
 * instead of passing over them in silence.
 */
const UNSUPPORTED_IMAGES: Readonly<Record<string, string>> = Object.fromEntries(
  (
    [
      ['TGA', '.tga'],
      ['ICO', '.ico .cur'],
      ['JPEG 2000', '.jp2 .j2k .jpf .jpx .j2c'],
      ['Photoshop', '.psd .psb'],
      ['floating-point Netpbm (PFM)', '.pfm'],
      ['OpenEXR', '.exr'],
      ['PCX', '.pcx'],
      ['DDS', '.dds'],
      ['QOI', '.qoi'],
    ] as const
  ).flatMap(([format, exts]) => exts.split(' ').map((ext) => [ext, format])),
);

/** Why a file with an image extension that Doppel cannot decode is not indexed; null for any other file. */
export function unsupportedImageReason(p: string): string | null {
  const format = UNSUPPORTED_IMAGES[path.extname(p).toLowerCase()];
  return format ? `Unsupported format: ${format} (Doppel reads ${READABLE_FORMATS}; convert it to index it)` : null;
}

/**
 * What scanning (and watching) passes over: hidden entries, and those whose path relative to the root ('/'
 * separators) or whose name an exclude glob matches.
 */
export function skipRule(exclude: string[] | undefined): (rel: string, name: string) => boolean {
  const excluded: (p: string) => boolean = exclude?.length ? picomatch(exclude, { dot: true }) : () => false;
  return (rel, name) => name.startsWith('.') || excluded(rel) || excluded(name);
}

export type ScanEvent =
  | { type: 'file'; path: string; size: number; mtimeMs: number; dev: number; ino: number }
  /** `folder`: a folder that could not be listed (its photos known before are kept: nothing says they are gone). */
  | { type: 'error'; path: string; reason: string; folder?: true };

export interface ScanOptions {
  /** Globs matched against the path relative to the root ('/' separators) and against the entry's name. */
  exclude?: string[];
  /** Follow symbolic links to files and folders (default false). */
  followSymlinks?: boolean;
  /** Folders below the root to pass over (absolute paths): sub-roots of the library, scanned on their own. */
  skipDirs?: ReadonlySet<string>;
  signal?: AbortSignal;
}

/** A short reason for a file system error, for the user. */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
      return 'Permission denied';
    case 'ENOENT':
      return 'Not found';
    case 'ENOTDIR':
      return 'Not a folder';
    case 'ELOOP':
      return 'Too many levels of symbolic links';
    case 'EIO':
      return 'Input/output error';
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many open files';
    default:
      return e?.message ?? String(err);
  }
}

const isGone = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';
const idKey = (st: fs.Stats) => `${st.dev}:${st.ino}`;

/**
 * Walks `root` depth-first in sorted name order and yields every image file once. Hidden entries are
 * skipped, symlinks too unless `followSymlinks`. Problems below the root become 'error' events; a root
 * that is missing or not a folder throws DoppelError('not-found') before anything is yielded.
 */
export async function* scanFolder(root: string, opts: ScanOptions = {}): AsyncGenerator<ScanEvent> {
  const absRoot = path.resolve(root);
  let rootStat: fs.Stats;
  try {
    // Within the time limit: a share that stopped answering is not reachable, like an unplugged drive.
    rootStat = await answeredWithin(() => fs.promises.stat(absRoot), {});
  } catch (err) {
    throw new DoppelError('not-found', `Folder not reachable: ${absRoot} (${fsReason(err)})`, { cause: err });
  }
  if (!rootStat.isDirectory()) throw new DoppelError('not-found', `Not a folder: ${absRoot}`);

  const skipped = skipRule(opts.exclude);
  const follow = opts.followSymlinks ?? false;
  const visitedDirs = new Set([idKey(rootStat)]); // loop guard for followed symlinks
  const seenFiles = new Set<string>(); // hard links: one path per (dev, ino)

  function checkAborted() {
    if (opts.signal?.aborted) throw new DoppelError('cancelled', 'Scan cancelled');
  }

  /** A folder's entries; opendir streams them instead of materialising a huge readdir result up front. */
  async function list(dir: string): Promise<fs.Dirent[]> {
    const names: fs.Dirent[] = [];
    for await (const entry of await fs.promises.opendir(dir)) names.push(entry);
    return names;
  }

  // Every listing and stat has the read time limit, counted against the drive of the folder it is in
  // (read-file.ts): a share that stops answering is reported, and its other folders are not asked.
  async function* walk(dir: string, device: number): AsyncGenerator<ScanEvent> {
    checkAborted();
    const limit = { device, ...(opts.signal ? { signal: opts.signal } : {}) };
    let names: fs.Dirent[];
    try {
      names = await answeredWithin(() => list(dir), limit);
    } catch (err) {
      if (opts.signal?.aborted) checkAborted();
      if (!isGone(err)) yield { type: 'error', path: dir, reason: fsReason(err), folder: true };
      return;
    }
    // Code-unit order, independent of locale, so scans are deterministic everywhere.
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    for (const entry of names) {
      checkAborted();
      const full = path.join(dir, entry.name);
      const rel = path.relative(absRoot, full).split(path.sep).join('/');
      if (skipped(rel, entry.name)) continue;

      const isLink = entry.isSymbolicLink();
      if (isLink && !follow) continue;
      if (!isLink && !entry.isDirectory() && !entry.isFile()) continue; // sockets, fifos, devices
      if (entry.isFile() && !isImagePath(entry.name)) {
        // no stat for non-images
        const unsupported = unsupportedImageReason(entry.name);
        if (unsupported) yield { type: 'error', path: full, reason: unsupported };
        continue;
      }

      // Folders are stat'ed too: their (dev, ino) feeds the loop guard for followed links.
      let st: fs.Stats;
      try {
        st = await answeredWithin(() => fs.promises.stat(full), limit); // follows the link when it is one
      } catch (err) {
        if (isGone(err) && entry.name.includes('\uFFFD')) {
          // Node reads names as UTF-8: bytes that are not valid UTF-8 become U+FFFD, and that name does not open.
          yield { type: 'error', path: full, reason: 'File name is not valid UTF-8; rename the file to index it' };
          continue;
        }
        if (isGone(err)) continue; // vanished since readdir, or a dangling link
        if (isLink && (err as NodeJS.ErrnoException).code === 'ELOOP') continue; // link cycle: a -> b -> a
        yield { type: 'error', path: full, reason: fsReason(err) };
        continue;
      }

      if (st.isDirectory()) {
        const key = idKey(st);
        if (visitedDirs.has(key)) continue; // symlink loop or a folder reached twice
        if (opts.skipDirs?.has(full)) continue;
        visitedDirs.add(key);
        yield* walk(full, st.dev);
      } else if (st.isFile() && isImagePath(entry.name)) {
        if (st.nlink > 1 || follow) {
          const key = idKey(st);
          if (seenFiles.has(key)) continue;
          seenFiles.add(key);
        }
        yield { type: 'file', path: full, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
      }
    }
  }

  yield* walk(absRoot, rootStat.dev);
}
