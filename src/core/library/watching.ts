// Watching the library's folders: a rescan on start, then every change the file system reports, debounced and
// handed to an indexing callback; restarted when the folders or the watch/exclude settings change.
import { DoppelError, type FolderInfo } from '../../shared/api.js';
import { FolderWatcher } from './watch.js';

export type Polling = 'auto' | 'always' | 'never';

export interface WatchRequest {
  folderIds?: number[];
  polling?: Polling;
}

export interface LibraryWatchingOptions {
  folders: () => FolderInfo[];
  settings: () => { watch: boolean; exclude: string[] };
  /** Indexes folders that changed (an indexing run). */
  index: (folders: FolderInfo[]) => Promise<unknown>;
  /** Watching started or stopped. */
  onStateChange: () => Promise<unknown>;
}

export class LibraryWatching {
  private watcher: FolderWatcher | null = null;
  private active = false;
  /** How the host asked to watch (null: it never did); kept so that folder and settings changes can re-watch. */
  private request: WatchRequest | null = null;
  /** Folders the watcher saw change that wait for the next indexing run. */
  private readonly dirty = new Set<string>();
  private syncing: Promise<void> | null = null;
  private readonly errorListeners = new Set<(message: string) => void>();

  constructor(private readonly opts: LibraryWatchingOptions) {}

  /** Whether the folders are being watched. */
  get watching(): boolean {
    return this.active;
  }

  /**
   * Starts watching (all folders, or those with the given ids) unless the `watch` setting is off, and indexes what
   * changed while nobody watched; resolves once that rescan is done.
   */
  async start(request: WatchRequest): Promise<void> {
    this.request = request;
    const settings = this.opts.settings();
    if (this.watcher || !settings.watch) return;
    const folders = this.opts
      .folders()
      .filter((f) => !request.folderIds || request.folderIds.includes(f.id))
      .map((f) => f.path);
    this.watcher = new FolderWatcher(folders, {
      exclude: settings.exclude,
      polling: request.polling,
      onChange: (changed) => this.syncFolders(changed),
      onError: (err) => this.error(err.message),
    });
    this.active = true;
    await this.watcher.ready();
    await this.opts.onStateChange();
    // The rescan on start: whatever changed while nobody watched.
    await this.syncFolders(folders);
  }

  /** Stops watching until start is called again (folder and settings changes no longer re-watch). */
  async stop(): Promise<void> {
    this.request = null;
    await this.close();
  }

  /**
   * Follows a change of the folders or of the watch/exclude settings while the host wants watching: the watcher
   * is started again over the folders and settings in force (or stays stopped when the setting is off), and its
   * rescan on start indexes what the change brought in.
   */
  async rewatch(): Promise<void> {
    const request = this.request;
    if (!request) return;
    await this.close();
    // Not awaited: starting includes a rescan (indexing a folder just added), which reports through events.
    this.start(request).catch((err: unknown) => this.error(`Watching the folders failed: ${(err as Error).message}`));
  }

  /** Problems while watching (a folder that cannot be watched, a failed run); returns the unsubscriber. */
  onError(listener: (message: string) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  private error(message: string): void {
    for (const listener of this.errorListeners) listener(message);
  }

  private async close(): Promise<void> {
    const watcher = this.watcher;
    if (!watcher) return;
    this.watcher = null;
    this.dirty.clear();
    await watcher.close();
    await this.syncing?.catch(() => undefined);
    this.active = false;
    await this.opts.onStateChange();
  }

  /** Indexes the folders that changed; changes that come in meanwhile are picked up by one more run. */
  private syncFolders(paths: readonly string[]): Promise<void> {
    for (const p of paths) this.dirty.add(p);
    this.syncing ??= (async () => {
      try {
        while (this.dirty.size > 0 && this.watcher) {
          const wanted = new Set(this.dirty);
          this.dirty.clear();
          const folders = this.opts.folders().filter((f) => wanted.has(f.path));
          if (folders.length === 0) continue;
          try {
            await this.opts.index(folders);
          } catch (err) {
            if (!(err instanceof DoppelError && err.kind === 'cancelled')) this.error((err as Error).message);
          }
        }
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }
}
