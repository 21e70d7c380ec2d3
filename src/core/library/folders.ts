// The library's folders: which can be added (an existing directory by its absolute path, resolved through links,
// that the folder policy allows), adding and removing them, and their saved settings.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError, type FolderInfo } from '../../shared/api.js';
import type { Store } from '../store/repository.js';
import { folderProblem } from './folder-policy.js';

/**
 * The real path of a folder to add, or a clear error: a relative path is refused (the engine has no base to
 * resolve it on), as are a missing path, a file and what folder-policy.ts refuses.
 */
export function folderToAdd(folder: string): string {
  if (!path.isAbsolute(folder))
    throw new DoppelError('invalid-argument', `${folder} is a relative path: give the folder's full path`);
  const abs = path.resolve(folder);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new DoppelError('not-found', `Folder not found: ${abs}`);
  }
  if (!stat.isDirectory()) throw new DoppelError('invalid-argument', `Not a folder: ${abs}`);
  const real = fs.realpathSync(abs);
  const problem = folderProblem(real);
  if (problem) throw new DoppelError('invalid-argument', problem);
  return real;
}

export interface LibraryFoldersOptions {
  store: Store;
  /** The folders changed (watching follows them). */
  changed: () => Promise<void>;
  /** A folder went, with these photos (none when a folder around it keeps them). */
  removed: (photoIds: readonly number[]) => void;
}

/** The library's folders: added by their real path, removed with the photos only they held, their settings saved. */
export class LibraryFolders {
  constructor(private readonly opts: LibraryFoldersOptions) {}

  list(): FolderInfo[] {
    return this.opts.store.listFolders();
  }

  /**
   * Adds a folder (folderToAdd). `followSymlinks`, when given, is saved on the folder (added now or before); left
   * out, the folder keeps its setting (off for a new one). Every later scan of the folder uses what is saved.
   */
  async add(folder: string, opts: { followSymlinks?: boolean } = {}): Promise<FolderInfo> {
    const { store } = this.opts;
    let added = store.addFolder(folderToAdd(folder));
    if (opts.followSymlinks !== undefined && opts.followSymlinks !== added.followSymlinks)
      added = store.setFolderFollowSymlinks(added.id, opts.followSymlinks) ?? added;
    await this.opts.changed();
    return added;
  }

  async remove(id: number): Promise<void> {
    const removed = this.opts.store.photosRemovedWith(id); // none when a folder around it keeps them
    if (!this.opts.store.removeFolder(id)) throw new DoppelError('not-found', `No folder with id ${id}`);
    this.opts.removed(removed);
    await this.opts.changed();
  }

  /** Saves whether scans of a folder follow symbolic links; its next scan adds or drops the photos behind links. */
  setFollowSymlinks(folderId: number, follow: boolean): FolderInfo {
    return found(this.opts.store.setFolderFollowSymlinks(folderId, follow), folderId);
  }

  /** Saves whether a folder is a reference folder (its photos are always kept, never moved to the trash). */
  setReference(folderId: number, reference: boolean): FolderInfo {
    return found(this.opts.store.setFolderReference(folderId, reference), folderId);
  }
}

function found(folder: FolderInfo | null | undefined, id: number): FolderInfo {
  if (!folder) throw new DoppelError('not-found', `No folder with id ${id}`);
  return folder;
}
