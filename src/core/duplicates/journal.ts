// The action log as a journal. Each file's row is written ('moving') before the file moves and completed
// ('trashed', with where the trash put it) in the transaction that removes the photo from the library, so a
// process killed at any point leaves one of these, which the next trash or undo settles (under the action lock)
// before it does anything else:
//
// - the file is still in its place with the bytes the row names: the move never happened, or was cut short.
//   What the cut-short move left in the trash since the row was written goes: a .trashinfo file without its file,
//   and a copy that is the file's bytes or a beginning of them (a move across devices copies, then deletes). The
//   row goes; the photo never left the library.
// - the trash has an entry for the file, made since the row, not logged by any other row and with the row's
//   bytes: the move happened. The row is completed and the photo leaves the library, as if the process had lived.
// - a file of the user's is now in its place (other bytes) and the trash has none of ours: the row goes.
// - the file is nowhere Doppel can see (a trash that cannot be read back): the row is completed without a trash
//   path, and undo says to restore it from the trash by hand.
//
// A row for a symbolic link (a photo that a folder following links reached through one) is about the link, which
// is what moved: it is recognised, in its place and in the trash, as a link with the logged target. Hashing what
// it leads to would not do: a relative link in the trash leads somewhere else, or nowhere. A move across devices
// of a link makes a new link in the trash, then unlinks the old one; cut short between the two, the one in the
// trash is the leftover.
import fs from 'node:fs';
import { CONTENT_HASH, holdsBeginningOf } from '../library/fingerprint.js';
import { closeLater, hashOpenedFile, openRegularFile } from '../library/read-file.js';
import type { ActionFile, Store } from '../store/repository.js';
import { exists, type Trasher, type TrashEntry } from './trash.js';

/** The content hash of a file, streamed from its descriptor; null when there is no regular file there. */
export async function hashFile(file: string): Promise<string | null> {
  try {
    const handle = await openRegularFile(file);
    try {
      return (await hashOpenedFile(handle, { algorithm: CONTENT_HASH })).hash;
    } finally {
      closeLater(handle);
    }
  } catch {
    return null;
  }
}

/** Whether `file` is a symbolic link to `target` (as readlink gives it). */
async function isLinkTo(file: string, target: string): Promise<boolean> {
  const st = await fs.promises.lstat(file).catch(() => null);
  if (!st?.isSymbolicLink()) return false;
  return (await fs.promises.readlink(file).catch(() => null)) === target;
}

/**
 * Whether `file` holds the bytes the row logged (by hash; by size where the row has no hash); for a row of a link,
 * whether it is that link (a link with the logged target).
 */
export async function holdsLoggedBytes(
  file: string,
  row: Pick<ActionFile, 'hash' | 'size'> & { linkTarget?: string | null },
): Promise<boolean> {
  if (row.linkTarget !== undefined && row.linkTarget !== null) return isLinkTo(file, row.linkTarget);
  const st = await fs.promises.lstat(file).catch(() => null);
  if (!st || st.size !== row.size) return false;
  if (row.hash === null) return true;
  return (await hashFile(file)) === row.hash;
}

/** Removes what a cut-short move of a file (or link) still in its place left in the trash. */
async function clearLeftovers(entries: readonly TrashEntry[], row: ActionFile): Promise<void> {
  const file = row.path;
  for (const e of entries) {
    const leftover =
      e.trashPath === null ||
      (row.linkTarget !== null
        ? await isLinkTo(e.trashPath, row.linkTarget)
        : await holdsBeginningOf(e.trashPath, file));
    if (!leftover) continue;
    if (e.trashPath !== null) await fs.promises.rm(e.trashPath, { force: true });
    await fs.promises.rm(e.infoPath, { force: true });
  }
}

/** Records that a row's file is in the trash and removes its photo from the library, in one transaction. */
export function recordMoved(
  store: Store,
  row: ActionFile,
  where: { trashPath: string | null; infoPath: string | null; deletedAt: string | null },
  photoId: number | null,
): void {
  store.transaction(() => {
    store.markActionFileMoved(row.id, where);
    if (photoId !== null) store.deletePhotos([photoId]);
  });
}

/** Settles one row whose move was begun and not recorded (see the top of this file). */
export async function settleMove(store: Store, trasher: Trasher, row: ActionFile): Promise<'moved' | 'in-place'> {
  const logged = store.loggedTrashPaths();
  const entries = (await trasher.entriesFor?.(row.path, row.createdAt ?? 0)) ?? [];
  const fresh = entries.filter((e) => e.trashPath === null || !logged.has(e.trashPath));
  const photo = store.getPhotoByPath(row.path);
  if (await holdsLoggedBytes(row.path, row)) {
    await clearLeftovers(fresh, row);
    store.dropMovingActionFile(row.id);
    return 'in-place';
  }
  const orphans = fresh.filter((e) => e.trashPath === null);
  for (const e of orphans) await fs.promises.rm(e.infoPath, { force: true });
  let ours: TrashEntry | null = null;
  for (const e of fresh) if (e.trashPath !== null && !ours && (await holdsLoggedBytes(e.trashPath, row))) ours = e;
  if (!ours && (await exists(row.path))) {
    // A file of the user's took the place and none of ours is in the trash: nothing moved.
    store.dropMovingActionFile(row.id);
    return 'in-place';
  }
  const where = ours
    ? { trashPath: ours.trashPath, infoPath: ours.infoPath, deletedAt: ours.deletedAt }
    : { trashPath: null, infoPath: null, deletedAt: null };
  // The library's record of the photo goes with it, unless a new file there has been indexed since.
  recordMoved(store, row, where, photo && photo.hash === row.hash ? photo.id : null);
  return 'moved';
}

/** Settles every move a killed process left open, and drops open actions that moved nothing. */
export async function settleMoves(store: Store, trasher: Trasher): Promise<void> {
  for (const row of store.movingActionFiles()) await settleMove(store, trasher, row);
  store.dropEmptyActions();
}
