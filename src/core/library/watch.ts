// Watches library folders for changes (chokidar: inotify, FSEvents, ReadDirectoryChangesW) and reports which
// folders changed, debounced, so the indexer can bring them up to date. Network drives (NFS, SMB/CIFS, FUSE
// mounts such as sshfs) do not deliver change notifications: those folders are polled instead, and so is every
// folder when the system runs out of watches.
import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { isImagePath, skipRule } from './scan.js';

export interface WatchOptions {
  /** Globs relative to each folder (as for scanning); matching paths are not watched. */
  exclude?: string[];
  /** Changes are reported once nothing has changed for this long (default 300 ms). */
  debounceMs?: number;
  /** Poll every folder ('always'), none ('never') or only network drives ('auto', the default). */
  polling?: 'auto' | 'always' | 'never';
  /** Polling interval (default 2000 ms). */
  pollIntervalMs?: number;
  /** The folders (as given) in which something changed since the last call. */
  onChange: (folders: string[]) => void;
  onError?: (err: Error) => void;
}

// statfs f_type values of file systems that do not deliver change notifications for remote changes.
const NETWORK_FS = new Set([
  0x6969, // NFS
  0x517b, // SMB
  0xff534d42, // CIFS
  0xfe534d42, // SMB2
  0x65735546, // FUSE (sshfs, rclone, ...)
  0x564c, // NCP
  0x73757245, // Coda
  0x47504653, // GPFS
  0x5346414f, // AFS
  0x6b414653, // kAFS
]);

/** Whether a folder lies on a network or FUSE file system, where native change notifications are unreliable. */
function isNetworkFolder(folder: string): boolean {
  try {
    return NETWORK_FS.has(Number(fs.statfsSync(folder).type) >>> 0);
  } catch {
    return false;
  }
}

export class FolderWatcher {
  private readonly watchers: FSWatcher[] = [];
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly folders: string[];

  constructor(
    folders: readonly string[],
    private readonly opts: WatchOptions,
  ) {
    this.folders = folders.map((f) => path.resolve(f));
    const mode = opts.polling ?? (process.env.DOPPEL_WATCH_POLL === '1' ? 'always' : 'auto');
    const polled = this.folders.filter((f) => mode === 'always' || (mode === 'auto' && isNetworkFolder(f)));
    const native = mode === 'always' ? [] : this.folders.filter((f) => !polled.includes(f));
    if (native.length > 0) this.start(native, false);
    if (polled.length > 0) this.start(polled, true);
  }

  /** The library folder a path lies in (the longest match), if any. */
  private folderOf(p: string): string | undefined {
    let best: string | undefined;
    for (const f of this.folders) {
      if ((p === f || p.startsWith(f + path.sep)) && (!best || f.length > best.length)) best = f;
    }
    return best;
  }

  /** Ignores what scanning passes over (src/core/library/scan.ts), so that it never reports a change there. */
  private ignored(): (p: string, stats?: fs.Stats) => boolean {
    const skipped = skipRule(this.opts.exclude);
    return (p, stats) => {
      const folder = this.folderOf(p);
      if (!folder || p === folder) return false;
      const rel = path.relative(folder, p).split(path.sep).join('/');
      const name = path.basename(p);
      if (skipped(rel, name)) return true;
      return stats?.isFile() === true && !isImagePath(name);
    };
  }

  private start(folders: string[], usePolling: boolean): void {
    const watcher = watch(folders, {
      ignoreInitial: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      ignored: this.ignored(),
      usePolling,
      interval: this.opts.pollIntervalMs ?? 2000,
      binaryInterval: this.opts.pollIntervalMs ?? 2000,
    });
    watcher.on('all', (_event, p) => this.touch(p));
    watcher.on('error', (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      // Out of inotify watches or file handles: poll those folders instead of missing changes.
      if (!usePolling && (e.code === 'ENOSPC' || e.code === 'EMFILE')) {
        void watcher.close();
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        if (!this.closed) this.start(folders, true);
        for (const f of folders) this.touch(f);
        return;
      }
      this.opts.onError?.(e);
    });
    this.watchers.push(watcher);
  }

  /** Resolves once every watcher has finished its initial walk of the folders. */
  ready(): Promise<void> {
    return Promise.all(this.watchers.map((w) => new Promise<void>((resolve) => w.once('ready', () => resolve())))).then(
      () => undefined,
    );
  }

  private touch(p: string): void {
    if (this.closed) return;
    const folder = this.folderOf(path.resolve(p));
    if (!folder) return;
    this.changed.add(folder);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const folders = [...this.changed];
      this.changed.clear();
      if (folders.length > 0) this.opts.onChange(folders);
    }, this.opts.debounceMs ?? 300);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.watchers.map((w) => w.close()));
  }
}
