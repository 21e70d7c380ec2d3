// Which file a media request for a library photo may read: its display thumbnail or its original, found by the
// photo's id and confined to the library. Shared by the desktop app's `doppel:` protocol and the loopback bridge.
// A photo that a folder following links reached through one is served through that link, and only while the link
// still leads to the very file that was indexed.
import fs from 'node:fs';
import path from 'node:path';
import type { FolderInfo, PhotoInfo } from '../shared/api.js';
import type { Readable } from 'node:stream';
import { openRegularFile, servedStream, UnreadableFile } from './library/read-file.js';
import { isInside } from './paths.js';
import { existingThumbnail } from './library/thumbnails.js';

export type { MediaKind } from '../shared/api.js';
import type { MediaKind } from '../shared/api.js';

export interface MediaFile {
  /** The real path of the file to send (for a photo reached through a link: the path with the link). */
  path: string;
  contentType: string;
  /** The file the checks saw: open it with openRegularFile's `expect`, so a file swapped in since is refused. */
  identity: FileIdentity;
  /**
   * Set for a photo of a folder that follows links, reached through one: open it with openRegularFile's
   * `followSymlinks` (and `expect`: the identity is the indexed file's, so a link turned elsewhere is refused).
   */
  followSymlinks?: true;
}

export interface FileIdentity {
  dev: number;
  ino: number;
}

/** A library photo with the device and inode its scan saw (null or absent where the library does not know them). */
export interface MediaPhoto extends PhotoInfo {
  dev?: number | null;
  ino?: number | null;
}

/** What media resolution needs from the library (DoppelService's store satisfies the first two). */
export interface MediaLibrary {
  getPhoto(id: number): MediaPhoto | null;
  getFolder(id: number): FolderInfo | null;
  /** Where display thumbnails are cached. */
  readonly thumbnailDir: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.dib': 'image/bmp',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.jxl': 'image/jxl',
};

/**
 * Formats whose originals a browser does not show, or that are not the picture Doppel indexed: a camera RAW (read
 * from the camera's preview), Netpbm and JPEG XL. Their "original" is the display thumbnail, never the file.
 */
const SHOWN_AS_THUMBNAIL: ReadonlySet<string> = new Set(['raw', 'pnm', 'jxl']);

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The real path of `requested` when it is a file inside one of `roots`, else null. Refuses relative paths, any
 * `..` segment, paths outside every root, and links (at any level) whose target lies outside: the check is made
 * on the fully resolved path against the fully resolved roots.
 */
export function confinePath(requested: string, roots: readonly string[]): string | null {
  return confineFile(requested, roots)?.path ?? null;
}

/**
 * confinePath with the identity (device and inode) of the file it checked. The caller opens the path with
 * openRegularFile (no link followed, that identity expected): a file swapped for a link or another file between
 * the check and the open is refused, never served.
 */
export function confineFile(
  requested: string,
  roots: readonly string[],
): { path: string; identity: FileIdentity } | null {
  if (!path.isAbsolute(requested) || requested.includes('\0')) return null;
  if (requested.split(/[\\/]/).includes('..')) return null;
  const lexical = path.resolve(requested);
  if (!roots.some((root) => isInside(lexical, path.resolve(root)))) return null;
  let real: string;
  let st: fs.Stats;
  try {
    real = fs.realpathSync(lexical);
    // lstat: the resolved path names no link, unless one was swapped in since.
    st = fs.lstatSync(real);
    if (!st.isFile()) return null;
  } catch {
    return null;
  }
  const realRoots = roots.flatMap((root) => {
    try {
      return [fs.realpathSync(root)];
    } catch {
      return [];
    }
  });
  return realRoots.some((root) => isInside(real, root)) ? { path: real, identity: { dev: st.dev, ino: st.ino } } : null;
}

/** A photo id as it appears in a URL: a positive decimal integer and nothing else. */
export function parseMediaId(text: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * The file to send a browser for a photo of the library, or null when there is none it may read. The original of a
 * photo whose file a browser cannot show as the picture Doppel indexed (SHOWN_AS_THUMBNAIL) is its thumbnail.
 */
export function resolveMedia(library: MediaLibrary, kind: MediaKind, id: number): MediaFile | null {
  const photo = library.getPhoto(id);
  if (!photo) return null;
  if (kind === 'thumb' || (photo.format !== null && SHOWN_AS_THUMBNAIL.has(photo.format))) {
    if (!photo.hash) return null;
    const cached = existingThumbnail(library.thumbnailDir, photo.hash);
    const file = cached ? confineFile(cached, [library.thumbnailDir]) : null;
    return file ? { ...file, contentType: contentTypeOf(file.path) } : null;
  }
  return originalFile(library, photo);
}

/** A photo's own file, whatever its format (to open in another app, show in its folder), or null. */
export function resolveOriginal(library: MediaLibrary, id: number): MediaFile | null {
  const photo = library.getPhoto(id);
  return photo ? originalFile(library, photo) : null;
}

function originalFile(library: MediaLibrary, photo: MediaPhoto): MediaFile | null {
  const folder = library.getFolder(photo.folderId);
  if (!folder) return null;
  const file = confineFile(photo.path, [folder.path]);
  if (file) return { ...file, contentType: contentTypeOf(photo.path) };
  return folder.followSymlinks ? throughLink(photo, folder) : null;
}

/**
 * The original of a photo that a folder following links reached through one (to a file, or a folder, outside the
 * folder): its path must lie inside the folder as written, and what it leads to now must be the file indexed
 * (device and inode as the scan saw them). The caller opens it through the link with that identity expected, so
 * a link turned to another file between this check and the open is refused, never served.
 */
function throughLink(photo: MediaPhoto, folder: FolderInfo): MediaFile | null {
  const requested = photo.path;
  if (!path.isAbsolute(requested) || requested.includes('\0')) return null;
  if (requested.split(/[\\/]/).includes('..')) return null;
  const lexical = path.resolve(requested);
  if (!isInside(lexical, path.resolve(folder.path))) return null;
  if (photo.dev === null || photo.dev === undefined || photo.ino === null || photo.ino === undefined) return null;
  let st: fs.Stats;
  try {
    st = fs.statSync(lexical);
  } catch {
    return null;
  }
  if (!st.isFile() || st.dev !== photo.dev || st.ino !== photo.ino) return null;
  return {
    path: lexical,
    contentType: contentTypeOf(lexical),
    identity: { dev: st.dev, ino: st.ino },
    followSymlinks: true,
  };
}

/**
 * The content of a file that resolveMedia or confineFile checked, streamed from the descriptor opened for it (no
 * link followed unless the file says so, the identity the check saw expected), each read within the time limit;
 * resolves once the first read has answered. Rejects with an fs error or UnreadableFile (driveNotAnswering tells
 * which).
 */
export async function openMedia(file: Pick<MediaFile, 'path' | 'identity' | 'followSymlinks'>): Promise<Readable> {
  const handle = await openRegularFile(file.path, { expect: file.identity, followSymlinks: file.followSymlinks });
  return servedStream(handle);
}

/** Whether openMedia failed because the file's drive is not answering (worth a 503), not because of the file. */
export function driveNotAnswering(err: unknown): err is UnreadableFile {
  return err instanceof UnreadableFile && err.retry;
}
