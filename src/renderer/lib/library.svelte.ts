// The library as the renderer shows it (folders, photo count, a version that moves on each change) and its actions.
import type { FolderInfo, LibraryInfo, PhotoRef } from '../../shared/api.js';
import type { Client } from './client.js';
import { fileName } from './format.js';
import type { Notifications } from './notifications.svelte.js';

/** While indexing reports progress, the library is refreshed at most this often. */
const REFRESH_EVERY_MS = 2000;

export class LibraryManager {
  info = $state<LibraryInfo | null>(null);
  folders = $state<FolderInfo[]>([]);
  /** How many photos the library lists. */
  total = $state(0);
  /** Moves on whenever the library was read again: views drop what they cached and ask again. */
  version = $state(0);
  /** Whether the last photo moved to the trash from the menu can be put back (the status line offers Undo). */
  undoable = $state(false);
  /**
   * Library changes the engine reported that this page has handled (refreshed or not), and whether a refresh is
   * scheduled: shown on the app's frame, so that a test can wait for an event to be handled instead of sleeping.
   */
  changesSeen = $state(0);
  refreshPending = $state(false);

  readonly #client: Client;
  readonly #notifications: Notifications;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client, notifications: Notifications) {
    this.#client = client;
    this.#notifications = notifications;
  }

  /** Reads the library, then follows the engine's events until the returned function is called. */
  connect(): () => void {
    this.refresh().catch((err: unknown) => this.#notifications.handleFatal(err, 'Could not open the library'));
    const offs = [
      // Only indexing changes the library; a folder walk that finds nothing new must not refresh the views.
      this.#client.on('progress', (p) => {
        if (p.phase === 'index') this.refreshSoon();
      }),
      // Every index run reports, even one that found nothing new (a scan, a watcher's poll): refreshing then would
      // only make the open view (the duplicate scan, on a large library) do its work again for nothing.
      this.#client.on('libraryChanged', (c) => {
        if (c.added + c.updated + c.removed > 0) void this.refresh().catch(() => undefined);
        this.changesSeen++;
      }),
    ];
    return () => {
      offs.forEach((off) => off());
      if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
      this.#refreshTimer = null;
      this.refreshPending = false;
    };
  }

  async refresh(): Promise<void> {
    // A refresh now makes one that indexing progress scheduled redundant (it would only scan the open view again).
    if (this.#refreshTimer) {
      clearTimeout(this.#refreshTimer);
      this.#refreshTimer = null;
      this.refreshPending = false;
    }
    const [info, folders, page] = await Promise.all([
      this.#client.api.info(),
      this.#client.api.listFolders(),
      this.#client.api.listPhotos({ limit: 1 }),
    ]);
    this.info = info;
    this.folders = folders;
    this.total = page.total;
    this.version++;
  }

  /** At most one refresh every two seconds while indexing reports progress. */
  refreshSoon(): void {
    if (this.#refreshTimer) return;
    this.refreshPending = true;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      this.refreshPending = false;
      void this.refresh().catch(() => undefined);
    }, REFRESH_EVERY_MS);
  }

  /**
   * Adds a folder (`onadded` runs once the engine took it) and reads the library again: true when both worked, else
   * false and the status line says why.
   */
  async addFolder(path: string, onadded?: () => void): Promise<boolean> {
    this.#notifications.clear();
    try {
      await this.#client.api.addFolder(path);
      onadded?.();
      await this.refresh();
      return true;
    } catch (err) {
      this.#notifications.handleError(err, 'Could not add the folder');
      return false;
    }
  }

  async removeFolder(folder: FolderInfo): Promise<void> {
    try {
      await this.#client.api.removeFolder(folder.id);
      this.#notifications.show(`Removed ${folder.path} from the library (the files stay where they are).`);
      await this.refresh();
    } catch (err) {
      this.#notifications.handleError(err, 'Could not remove the folder');
    }
  }

  async trash(photo: PhotoRef): Promise<void> {
    try {
      const report = await this.#client.api.trashPhotos([photo.id], {});
      if (report.files.length === 0)
        this.#notifications.show(`Not moved: ${report.skipped[0]?.reason ?? 'unknown reason'}`);
      else
        this.#notifications.show(
          `${fileName(photo.path)} moved to the trash.${report.undoable ? '' : ` ${report.undoNote ?? ''}`}`,
        );
      this.undoable = report.undoable && report.actionId !== null;
      await this.refresh();
    } catch (err) {
      this.#notifications.handleError(err, 'Could not move to the trash');
    }
  }

  /**
   * Moves several photos to the trash (the caller asked first) and says how many moved; true when some did. Undo on
   * the status line puts them back.
   */
  async trashMany(ids: number[]): Promise<boolean> {
    try {
      const report = await this.#client.api.trashPhotos(ids, {});
      const skipped = report.skipped.length > 0 ? `, ${report.skipped.length} left in place` : '';
      this.#notifications.show(
        report.files.length === 0
          ? `Not moved: ${report.skipped[0]?.reason ?? 'unknown reason'}`
          : `${report.files.length} photo(s) moved to the trash${skipped}.${report.undoable ? '' : ` ${report.undoNote ?? ''}`}`,
      );
      this.undoable = report.undoable && report.actionId !== null;
      await this.refresh();
      return report.files.length > 0;
    } catch (err) {
      this.#notifications.handleError(err, 'Could not move to the trash');
      return false;
    }
  }

  async undo(): Promise<void> {
    try {
      const report = await this.#client.api.undoLastAction();
      this.#notifications.show(`${report.restored.length} photo(s) put back.`);
      this.undoable = false;
      await this.refresh();
    } catch (err) {
      this.#notifications.handleError(err, 'Could not undo');
    }
  }
}
