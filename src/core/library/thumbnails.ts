// The thumbnail cache: one display thumbnail per content hash, beside the library's database (paths.ts
// thumbnailDirFor). Written by indexing, read by the media front doors, the duplicate verifier and re-encoding.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the display thumbnail of a content hash is written: JPEG (it encodes in ~2 ms against WebP's ~7 ms, a
 * tenth of the per-photo work of indexing). Libraries indexed before keep their WebP thumbnails: see
 * existingThumbnail.
 */
export function thumbnailPath(thumbnailDir: string, hash: string, ext: '.jpg' | '.webp' = '.jpg'): string {
  return path.join(thumbnailDir, hash.slice(0, 2), `${hash}${ext}`);
}

/** The cached thumbnail of a content hash (JPEG, or the WebP of an older library), or null when there is none. */
export function existingThumbnail(thumbnailDir: string, hash: string): string | null {
  for (const ext of ['.jpg', '.webp'] as const) {
    const file = thumbnailPath(thumbnailDir, hash, ext);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/**
 * Where thumbnails are written before they take their names: one folder, so that what a killed process left there
 * is found without walking the cache (clearPartialThumbnails). Names carry the writer's process id.
 */
const partialDir = (thumbnailDir: string) => path.join(thumbnailDir, '.partial');

/**
 * Writes the display thumbnail of a content hash whole or not at all (temporary file + rename), so a crash never
 * leaves half a thumbnail.
 */
export async function writeThumbnail(thumbnailDir: string, hash: string, data: Uint8Array): Promise<void> {
  const file = thumbnailPath(thumbnailDir, hash);
  // Owner only: thumbnails show the user's photos.
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = partialDir(thumbnailDir);
  const tmp = path.join(partial, `${hash}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const write = () => fs.promises.writeFile(tmp, data, { mode: 0o600 });
  try {
    // The partial folder is made once, by the first write that finds it missing (not one mkdir a thumbnail more).
    await write().catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await fs.promises.mkdir(partial, { recursive: true, mode: 0o700 });
      await write();
    });
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
  }
}

/**
 * Removes what writers that no longer run (a process killed mid-write) left half-written; what a running process
 * (this one, or another indexing the same library) is writing stays. Returns how many were removed.
 */
export async function clearPartialThumbnails(thumbnailDir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.promises.readdir(partialDir(thumbnailDir));
  } catch {
    return 0; // none written yet
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(/\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    await fs.promises.rm(path.join(partialDir(thumbnailDir), name), { force: true });
    removed++;
  }
  return removed;
}
