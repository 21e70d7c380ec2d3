// DoppelService: the engine behind every front door (Electron IPC, CLI, loopback bridge).
import fs from 'node:fs';
import path from 'node:path';
import {
  DoppelError,
  type DoppelApi,
  type DoppelEvents,
  type DuplicateGroup,
  type DuplicateQuery,
  type ExportFormat,
  type FileError,
  type FolderInfo,
  type IndexProgress,
  type IndexStatus,
  type IndexSummary,
  type LibraryInfo,
  type PhotoPage,
  type PhotoQuery,
  type Reconstruction,
  type Settings,
  type SettingsUpdate,
  type SimilarResult,
  type TrashOptions,
  type TrashReport,
  type UndoReport,
} from '../shared/api.js';
import { trashPhotos, undoLastAction } from './duplicates/actions.js';
import { exportGroups } from './duplicates/export.js';
import { scanDuplicates, type ScanReport } from './duplicates/scan.js';
import { VerifierPool } from './duplicates/verify-pool.js';
import { folderProblem } from './library/folder-policy.js';
import { keeperOptionsOf, readSettings, updateSettings, type ThresholdDefaults } from './settings.js';
import { systemTrasher, type Trasher } from './duplicates/trash.js';
import { imageToModelInput, rgbToPng } from './imaging/analyze.js';
import { viewsReady } from './model/view-predictor.js';
import { indexFolders, type IndexOptions } from './indexer/indexer.js';
import { IndexWorker } from './indexer/worker-client.js';
import { unansweredReads } from './library/read-file.js';
import { FolderWatcher } from './library/watch.js';
import type { MediaLibrary } from './media.js';
import { ModelInfo } from './model/card.js';
import { LazyModel } from './model/lazy-model.js';
import { restrictToOwner, thumbnailDirFor } from './paths.js';
import { nearestByViews, viewFloor, viewScore, viewStretch } from './search/crop-views.js';
import { LibrarySearch } from './search/library-search.js';
import type { CompactIndex } from './search/search-index.js';
import { Store } from './store/repository.js';

export interface ServiceOptions {
  dbPath: string;
  modelsDir: string;
  /** Model name in modelsDir; the default model when omitted. */
  model?: string;
  /** Where trashPhotos moves files (default: this platform's trash; the Electron app passes shell.trashItem's). */
  trasher?: Trasher;
  /** Start the indexing worker while the model loads, for a caller that is about to index (`doppel index`). */
  startIndexer?: boolean;
}

type Listener<K extends keyof DoppelEvents> = (payload: DoppelEvents[K]) => void;

/** Thresholds used when neither the query nor the model card gives any. */
const FALLBACK_THRESHOLDS = { near: 0.97, similar: 0.9 };

export class DoppelService implements DoppelApi {
  private search: LibrarySearch | null = null;
  private readonly modelId: number;
  private readonly listeners = new Map<keyof DoppelEvents, Set<(payload: never) => void>>();
  private indexing: Promise<IndexSummary> | null = null;
  private runControl: { abort: AbortController; paused: boolean; wake: (() => void) | null } | null = null;
  /** Callers of whenParked, told when a paused run reaches the point between batches where it waits. */
  private readonly parkedWaiters = new Set<() => void>();
  private lastProgress: IndexProgress | null = null;
  protected watching = false;
  private watcher: FolderWatcher | null = null;
  /** How the host asked to watch (null: it never did); kept so that folder and settings changes can re-watch. */
  private watchRequest: { folderIds?: number[]; polling?: 'auto' | 'always' | 'never' } | null = null;
  /** Folders the watcher saw change that wait for the next indexing run. */
  private readonly dirty = new Set<string>();
  private syncing: Promise<void> | null = null;
  private readonly watchErrorListeners = new Set<(message: string) => void>();
  /** The indexing worker thread, started on first use and kept for later runs. */
  private worker: Promise<IndexWorker | null> | null = null;
  /** The worker's unanswered reads as it said when it was closed. */
  private workerUnanswered = 0;

  private constructor(
    readonly store: Store,
    /** The model's card now, its weights (and TensorFlow.js) on first use: most commands never encode. */
    readonly model: LazyModel,
    readonly dbPath: string,
    readonly trasher: Trasher,
    private readonly modelsDir: string,
  ) {
    this.modelId = store.ensureModel({ name: model.vectorKey, dim: model.dim, inputSize: model.inputSize });
  }

  static async open(opts: ServiceOptions): Promise<DoppelService> {
    const dbPath = opts.dbPath === ':memory:' ? opts.dbPath : path.resolve(opts.dbPath);
    const modelsDir = path.resolve(opts.modelsDir);
    const store = Store.open(dbPath);
    if (dbPath !== ':memory:') restrictToOwner([thumbnailDirFor(dbPath), `${dbPath}.search`], 0o700);
    // The worker opens the (by now migrated) database and loads its model while this thread loads its own.
    const worker =
      opts.startIndexer && dbPath !== ':memory:'
        ? IndexWorker.start({ dbPath, modelsDir, model: opts.model }).catch(() => null) // retried on first use
        : null;
    let model: LazyModel;
    try {
      model = new LazyModel(ModelInfo.read(opts.modelsDir, opts.model));
    } catch (err) {
      store.close();
      await (await worker)?.close();
      throw err;
    }
    const service = new DoppelService(store, model, dbPath, opts.trasher ?? systemTrasher(), modelsDir);
    if (worker) {
      service.worker = worker.then((w) => {
        if (!w) service.worker = null;
        return w;
      });
    }
    return service;
  }

  async close(): Promise<void> {
    await this.stopWatching();
    // A running (or paused) indexing run stops after its current batch; finished batches are kept.
    if (this.runControl) await this.cancelIndexing();
    await this.indexing?.catch(() => undefined);
    this.search?.close();
    const worker = await this.worker?.catch(() => null);
    this.worker = null;
    await worker?.close();
    this.workerUnanswered = worker?.unansweredReads ?? 0;
    await this.pool?.close();
    this.pool = null;
    this.store.close();
    await this.model.dispose();
  }

  /**
   * Reads given up on, in this thread and (once closed) in the indexing worker, still waiting for a drive that
   * stopped answering. Each holds a libuv thread, and Node's exit waits for those threads: a process with any
   * cannot end by returning (see the CLI's main).
   */
  unansweredReads(): number {
    return unansweredReads() + this.workerUnanswered;
  }

  on<K extends keyof DoppelEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  private emit<K extends keyof DoppelEvents>(event: K, payload: DoppelEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<K>)(payload);
  }

  /** This library's photos and thumbnails as the media front doors (`doppel:` protocol, bridge) serve them. */
  mediaLibrary(): MediaLibrary {
    return {
      getPhoto: (id) => this.store.getStoredPhoto(id),
      getFolder: (id) => this.store.getFolder(id),
      thumbnailDir: thumbnailDirFor(this.dbPath),
    };
  }

  /**
   * The search index (int8 rows; k-means cells for searches from APPROXIMATE_FROM photos and for whole-library
   * scans from SCAN_CELLS_FROM; exact float32 re-rank from SQLite):
   * loaded on first use from its snapshot beside the library (or from SQLite), then brought up to date from
   * SQLite's change log before every use, whoever changed the vectors (an indexing worker, another process).
   * One per service, so per model: another model means another service and index (and snapshot file).
   */
  private vectors(): CompactIndex {
    if (!this.search) {
      this.search = LibrarySearch.open({
        store: this.store,
        modelId: this.modelId,
        modelName: this.model.vectorKey,
        dim: this.model.dim,
        dir: this.dbPath === ':memory:' ? null : `${this.dbPath}.search`,
      });
      void this.search.ensurePartition();
    } else this.search.sync();
    return this.search.index;
  }

  /** Photos in the library (what info() reports as `photos`, without loading the model to name its backend). */
  countPhotos(): number {
    return this.store.countPhotos({ status: 'indexed' });
  }

  async info(): Promise<LibraryInfo> {
    return {
      photos: this.countPhotos(),
      errors: this.store.countErrors(),
      folders: this.store.listFolders().length,
      model: {
        name: this.model.name,
        dim: this.model.dim,
        inputSize: this.model.inputSize,
        backend: (await this.model.load()).backend,
      },
      dbPath: this.dbPath,
    };
  }

  async listFolders(): Promise<FolderInfo[]> {
    return this.store.listFolders();
  }

  /**
   * Adds a folder by its absolute path (a relative one is refused: the service has no base to resolve it on).
   * `followSymlinks`, when given, is saved on the folder (added now or before); left out, the folder keeps its
   * setting (off for a new one). Every later scan of the folder uses what is saved.
   */
  async addFolder(folder: string, opts: { followSymlinks?: boolean } = {}): Promise<FolderInfo> {
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
    let added = this.store.addFolder(real);
    if (opts.followSymlinks !== undefined && opts.followSymlinks !== added.followSymlinks)
      added = this.store.setFolderFollowSymlinks(added.id, opts.followSymlinks) ?? added;
    await this.rewatch();
    return added;
  }

  /** Saves whether scans of a folder follow symbolic links; its next scan adds or drops the photos behind links. */
  async setFolderFollowSymlinks(folderId: number, follow: boolean): Promise<FolderInfo> {
    const folder = this.store.setFolderFollowSymlinks(folderId, follow);
    if (!folder) throw new DoppelError('not-found', `No folder with id ${folderId}`);
    return folder;
  }

  async removeFolder(id: number): Promise<void> {
    const removed = this.store.photosRemovedWith(id); // none when a folder around it keeps them
    if (!this.store.removeFolder(id)) throw new DoppelError('not-found', `No folder with id ${id}`);
    this.search?.sync();
    this.emit('libraryChanged', { added: 0, updated: 0, removed: removed.length });
    await this.rewatch();
  }

  /**
   * Follows a change of the folders or of the watch/exclude settings while the host wants watching: the watcher
   * is started again over the folders and settings in force (or stays stopped when the setting is off), and its
   * rescan on start indexes what the change brought in.
   */
  private async rewatch(): Promise<void> {
    const request = this.watchRequest;
    if (!request) return;
    await this.closeWatcher();
    // Not awaited: starting includes a rescan (indexing a folder just added), which reports through events.
    this.startWatching(request).catch((err: unknown) =>
      this.watchError(`Watching the folders failed: ${(err as Error).message}`),
    );
  }

  async indexAll(): Promise<IndexSummary> {
    return this.indexFolders(this.store.listFolders(), { exclude: this.settings().exclude });
  }

  async indexStatus(): Promise<IndexStatus> {
    const run = this.runControl;
    return {
      state: run === null ? 'idle' : run.paused ? 'paused' : 'running',
      progress: run === null ? null : this.lastProgress,
      watching: this.watching,
    };
  }

  private async statusChanged(): Promise<IndexStatus> {
    const status = await this.indexStatus();
    this.emit('indexStatus', status);
    return status;
  }

  async pauseIndexing(): Promise<IndexStatus> {
    if (this.runControl) this.runControl.paused = true;
    return this.statusChanged();
  }

  /**
   * Resolves once the running indexing run, paused, waits between two batches (at once if it already does): from
   * then until it is resumed or cancelled, no batch completes. For hosts and tests that must know a pause took.
   */
  whenParked(): Promise<void> {
    if (this.runControl?.paused && this.runControl.wake) return Promise.resolve();
    return new Promise<void>((resolve) => this.parkedWaiters.add(resolve));
  }

  async resumeIndexing(): Promise<IndexStatus> {
    const run = this.runControl;
    if (run) {
      run.paused = false;
      run.wake?.();
    }
    return this.statusChanged();
  }

  async cancelIndexing(): Promise<IndexStatus> {
    const run = this.runControl;
    if (run) {
      run.abort.abort();
      run.paused = false;
      run.wake?.();
    }
    return this.statusChanged();
  }

  /**
   * Indexes some folders; one indexing run at a time. Each folder is scanned with its saved settings (following
   * links or not), read again from the library here, so a record from before a change of them scans as saved.
   */
  async indexFolders(
    requested: readonly FolderInfo[],
    opts: Pick<IndexOptions, 'exclude' | 'signal'> = {},
  ): Promise<IndexSummary> {
    while (this.indexing) await this.indexing.catch(() => undefined);
    const folders = requested.map((f) => this.store.getFolder(f.id) ?? f);
    const control: NonNullable<DoppelService['runControl']> = {
      abort: new AbortController(),
      paused: false,
      wake: null,
    };
    const signal = opts.signal ? AbortSignal.any([opts.signal, control.abort.signal]) : control.abort.signal;
    this.runControl = control;
    this.lastProgress = null;
    const crops = this.cropViews();
    const run = this.runIndexing(folders, {
      ...opts,
      ...(crops ? { cropViews: crops.fraction } : {}),
      signal,
      whenRunnable: async () => {
        while (control.paused && !signal.aborted) {
          const woken = new Promise<void>((resolve) => (control.wake = resolve));
          for (const parked of this.parkedWaiters) parked();
          this.parkedWaiters.clear();
          await woken;
        }
        control.wake = null;
      },
      thumbnailDir: thumbnailDirFor(this.dbPath),
      onProgress: (p) => {
        this.lastProgress = p;
        this.emit('progress', p);
      },
      // The batch is in SQLite: the index catches up from its change log (loaded fresh on first use).
      onBatch: () => void this.search?.sync(),
    });
    this.indexing = run;
    void this.statusChanged();
    try {
      const summary = await run;
      this.search?.save();
      void this.search?.ensurePartition();
      this.emit('libraryChanged', { added: summary.added, updated: summary.updated, removed: summary.removed });
      return summary;
    } finally {
      this.indexing = null;
      this.runControl = null;
      this.lastProgress = null;
      void this.statusChanged();
    }
  }

  /**
   * The indexing worker for this library, started on first use (null for an in-memory library, which another
   * thread cannot open).
   */
  private indexWorker(): Promise<IndexWorker | null> {
    if (this.dbPath === ':memory:') return Promise.resolve(null);
    this.worker ??= IndexWorker.start({ dbPath: this.dbPath, modelsDir: this.modelsDir, model: this.model.name }).catch(
      (err: unknown) => {
        // Without a worker (its script missing from a build, threads unavailable) this thread indexes.
        process.stderr.write(`doppel: indexing in the main thread: ${(err as Error).message}\n`);
        this.worker = null;
        return null;
      },
    );
    return this.worker;
  }

  /** indexFolders in the worker thread; in this thread for an in-memory library or when no worker starts. */
  private async runIndexing(folders: readonly FolderInfo[], opts: IndexOptions): Promise<IndexSummary> {
    let worker = await this.indexWorker();
    if (worker && !worker.alive) {
      this.worker = null;
      worker = await this.indexWorker();
    }
    return worker ? worker.run(folders, opts) : indexFolders(this.store, this.model, folders, opts);
  }

  /**
   * Keeps the library in sync with its folders (all of them, or those with the given ids): a rescan now, then
   * every change the file system reports, debounced, indexed incrementally. Honours the `watch` setting (when it
   * is off nothing is watched) and the `exclude` globs; network drives are polled. Returns the status, whose
   * `watching` says whether the folders are being watched.
   */
  async startWatching(
    opts: { folderIds?: number[]; polling?: 'auto' | 'always' | 'never' } = {},
  ): Promise<IndexStatus> {
    this.watchRequest = opts;
    const settings = this.settings();
    if (this.watcher || !settings.watch) return this.indexStatus();
    const folders = this.store
      .listFolders()
      .filter((f) => !opts.folderIds || opts.folderIds.includes(f.id))
      .map((f) => f.path);
    this.watcher = new FolderWatcher(folders, {
      exclude: settings.exclude,
      polling: opts.polling,
      onChange: (changed) => this.syncFolders(changed),
      onError: (err) => this.watchError(err.message),
    });
    this.watching = true;
    await this.watcher.ready();
    await this.statusChanged();
    // The rescan on start: whatever changed while nobody watched.
    await this.syncFolders(folders);
    return this.indexStatus();
  }

  /** Problems while watching (a folder that cannot be watched, a failed run); returns the unsubscriber. */
  onWatchError(listener: (message: string) => void): () => void {
    this.watchErrorListeners.add(listener);
    return () => this.watchErrorListeners.delete(listener);
  }

  private watchError(message: string): void {
    for (const listener of this.watchErrorListeners) listener(message);
  }

  /** Stops watching until startWatching is called again (folder and settings changes no longer re-watch). */
  async stopWatching(): Promise<IndexStatus> {
    this.watchRequest = null;
    return this.closeWatcher();
  }

  private async closeWatcher(): Promise<IndexStatus> {
    const watcher = this.watcher;
    if (!watcher) return this.indexStatus();
    this.watcher = null;
    this.dirty.clear();
    await watcher.close();
    await this.syncing?.catch(() => undefined);
    this.watching = false;
    return this.statusChanged();
  }

  /** Indexes the folders that changed; changes that come in meanwhile are picked up by one more run. */
  private syncFolders(paths: readonly string[]): Promise<void> {
    for (const p of paths) this.dirty.add(p);
    this.syncing ??= (async () => {
      try {
        while (this.dirty.size > 0 && this.watcher) {
          const wanted = new Set(this.dirty);
          this.dirty.clear();
          const folders = this.store.listFolders().filter((f) => wanted.has(f.path));
          if (folders.length === 0) continue;
          try {
            await this.indexFolders(folders, { exclude: this.settings().exclude });
          } catch (err) {
            if (!(err instanceof DoppelError && err.kind === 'cancelled')) {
              this.watchError((err as Error).message);
            }
          }
        }
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  async listPhotos(query: PhotoQuery): Promise<PhotoPage> {
    return this.store.listPhotos(query);
  }

  async listErrors(): Promise<FileError[]> {
    return this.store.listErrors();
  }

  private toResults(neighbours: { id: number; score: number }[]): SimilarResult[] {
    return neighbours.flatMap(({ id, score }) => {
      const photo = this.store.getPhoto(id);
      return photo ? [{ photo: { id, path: photo.path, width: photo.width, height: photo.height }, score }] : [];
    });
  }

  async similarToPhoto(photoId: number, k: number): Promise<SimilarResult[]> {
    const vector = this.vectors().get(photoId);
    if (!vector) throw new DoppelError('not-found', `Photo ${photoId} is not indexed`);
    const crops = this.cropViews();
    const views = crops ? (this.store.getViews(photoId, this.modelId, crops.fraction) ?? []) : [];
    const [found] = this.searchWithViews([{ vector, views, exclude: new Set([photoId]) }], crops, k);
    return this.toResults(found!);
  }

  /**
   * For each query, the k best photos for its vector and, when finding cropped copies (`crops`), for its corner
   * views too, and the photos one of whose views is near its vector (the photo a crop was cut from; the library's
   * views are read once for all the queries). A view's similarity is put on the common scale with the stretch
   * (search/crop-views.ts). Each photo once, at its best.
   */
  private searchWithViews(
    queries: readonly { vector: ArrayLike<number>; views: readonly Float32Array[]; exclude?: ReadonlySet<number> }[],
    crops: { stretch: number; fraction: number } | null,
    k: number,
  ): { id: number; score: number }[][] {
    const index = this.vectors();
    const found = queries.map((q) => index.search(q.vector, k, q.exclude));
    if (!crops) return found;
    // Only views that could rank among the k found so far (on the common scale) need to be kept.
    const rawFloor = (own: { score: number }[]): number => {
      const floor = own.length >= k ? own[own.length - 1]!.score : -1;
      return viewFloor(floor, crops.stretch);
    };
    const cutFrom = nearestByViews(
      (fn) => this.store.forEachViewBytes(this.modelId, crops.fraction, fn),
      queries.map((q, i) => ({
        vector: q.vector,
        rawFloor: rawFloor(found[i]!),
        ...(q.exclude ? { exclude: q.exclude } : {}),
      })),
      k,
    );
    return queries.map((q, i) => {
      const best = new Map(found[i]!.map((n) => [n.id, n.score]));
      const add = (n: { id: number; score: number }): void => {
        best.set(n.id, Math.max(best.get(n.id) ?? -Infinity, viewScore(n.score, crops.stretch)));
      };
      for (const view of q.views) index.search(view, k, q.exclude).forEach(add);
      cutFrom[i]!.forEach(add);
      return [...best]
        .map(([id, score]) => ({ id, score }))
        .sort((a, b) => b.score - a.score || a.id - b.id)
        .slice(0, k);
    });
  }

  /** The corner views in force: the card's calibration when the library finds cropped copies, else null. */
  private cropViews(): { fraction: number; stretch: number; encodedStretch?: number } | null {
    const card = this.model.card;
    const views = card.cropViews;
    const near = card.thresholds?.near;
    if (!views || views.threshold === undefined || near === undefined || !viewsReady(card)) return null;
    if (!this.settings().findCroppedCopies) return null;
    const encoded = views.encodedThreshold;
    return {
      fraction: views.fraction,
      stretch: viewStretch(near, views.threshold),
      ...(encoded === undefined ? {} : { encodedStretch: viewStretch(near, encoded) }),
    };
  }

  async similarToImage(image: Uint8Array, k: number): Promise<SimilarResult[]> {
    const [results] = await this.similarToImages([image], k);
    return results!;
  }

  /** Many query images at once: decoded one by one, encoded in batches. */
  async similarToImages(images: readonly Uint8Array[], k: number): Promise<SimilarResult[][]> {
    const crops = this.cropViews();
    const inputs = await Promise.all(images.map((img) => imageToModelInput(img, this.model.inputSpec)));
    if (crops) {
      // A query image's corner views find the library photos that are crops of it.
      const { vectors, views } = await this.model.encodeWithViews(inputs);
      const queries = vectors.map((vector, i) => ({ vector, views: views[i]! }));
      return this.searchWithViews(queries, crops, k).map((found) => this.toResults(found));
    }
    const codes = await this.model.encode(inputs);
    const queries = codes.map((vector) => ({ vector, views: [] }));
    return this.searchWithViews(queries, null, k).map((found) => this.toResults(found));
  }

  async reconstructPhoto(photoId: number): Promise<Reconstruction> {
    const photo = this.store.getPhoto(photoId);
    if (!photo) throw new DoppelError('not-found', `No photo with id ${photoId}`);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(photo.path);
    } catch {
      throw new DoppelError('io', `Cannot read ${photo.path}`);
    }
    return this.reconstructImage(bytes);
  }

  async reconstructImage(image: Uint8Array, scale = 1): Promise<Reconstruction> {
    const s = this.model.inputSize;
    const input = await imageToModelInput(image, this.model.inputSpec);
    const model = await this.model.load();
    const { output, mse } = model.reconstruct(input);
    const [inPng, outPng] = await Promise.all([rgbToPng(input, s, s, { scale }), rgbToPng(output, s, s, { scale })]);
    const { height, width, maps } = model.bottleneckMaps(input);
    const codeMaps = await Promise.all(
      maps.map(async (map) => {
        let min = Infinity;
        let max = -Infinity;
        for (const v of map) [min, max] = [Math.min(min, v), Math.max(max, v)];
        const range = max - min || 1;
        const grey = new Uint8Array(map.length * 3);
        map.forEach((v, i) => grey.fill(Math.round(((v - min) / range) * 255), i * 3, i * 3 + 3));
        const png = new Uint8Array(await rgbToPng(grey, width, height));
        return { width, height, png, min, max };
      }),
    );
    return {
      input: new Uint8Array(inPng),
      output: new Uint8Array(outPng),
      mse,
      codeMaps,
      detailChannels: model.detailChannels,
    };
  }

  /** The thresholds used while the settings set none: the model card's, else Doppel's fallback. */
  thresholdDefaults(): ThresholdDefaults {
    const card = this.model.card.thresholds;
    return {
      ...FALLBACK_THRESHOLDS,
      ...(card ?? {}),
      fromModelCard: card !== undefined,
      cropViews: card !== undefined && viewsReady(this.model.card),
    };
  }

  /** The thresholds in force: the settings' for this model, else the defaults. */
  thresholds(): { near: number; similar: number } {
    const s = this.settings();
    return { near: s.nearThreshold, similar: s.similarThreshold };
  }

  private settings(): Settings {
    return readSettings(this.store, this.model.vectorKey, this.thresholdDefaults());
  }

  async getSettings(): Promise<Settings> {
    return this.settings();
  }

  async updateSettings(update: SettingsUpdate): Promise<Settings> {
    const settings = updateSettings(this.store, this.model.vectorKey, this.thresholdDefaults(), update);
    if (update.watch !== undefined || update.exclude !== undefined) await this.rewatch();
    return settings;
  }

  async findDuplicates(query: DuplicateQuery): Promise<DuplicateGroup[]> {
    const settings = this.settings();
    const { groups, report } = await scanDuplicates(query, {
      store: this.store,
      modelId: this.modelId,
      near: settings.nearThreshold,
      similar: settings.similarThreshold,
      keeper: keeperOptionsOf(settings),
      crops: this.cropViews(),
      index: () => this.scanIndex(),
      pool: () => this.verifierPool(),
      inputSpec: this.model.inputSpec,
      encode: (inputs) => this.model.encode(inputs),
      thumbnailDir: thumbnailDirFor(this.dbPath),
      onProgress: (p) => this.emit('duplicateScan', p),
    });
    this.lastScan = report;
    if (report.verification) this.lastVerification = report.verification;
    return groups;
  }

  private pool: VerifierPool | null = null;
  /** What the last duplicate scan's verification did: pairs measured now, read from the library, left unverified. */
  lastVerification: { fresh: number; cached: number; skipped: number } | null = null;
  /** What the last duplicate scan did: groups kept from an earlier scan, or a search (and whether it was complete). */
  lastScan: ScanReport | null = null;

  private verifierPool(): VerifierPool {
    return (this.pool ??= new VerifierPool());
  }

  /**
   * The index for a whole-library scan: with its partition when the library is large enough (trained now if it
   * has none yet; one it has outgrown still serves while its successor trains).
   */
  private async scanIndex(): Promise<CompactIndex> {
    const index = this.vectors();
    if (index.wantsPartition && !index.partition) await this.search!.ensurePartition();
    else void this.search!.ensurePartition();
    return this.vectors();
  }

  async exportDuplicates(query: DuplicateQuery, format: ExportFormat): Promise<string> {
    return exportGroups(await this.findDuplicates(query), format);
  }

  async setReferenceFolder(folderId: number, reference: boolean): Promise<FolderInfo> {
    const folder = this.store.setFolderReference(folderId, reference);
    if (!folder) throw new DoppelError('not-found', `No folder with id ${folderId}`);
    return folder;
  }

  /** The content hashes of two different library photos, for "not a duplicate" answers. */
  private hashPair(photoA: number, photoB: number): [string, string] {
    if (photoA === photoB) throw new DoppelError('invalid-argument', 'A photo cannot be "not a duplicate" of itself');
    return [photoA, photoB].map((id) => {
      const photo = this.store.getPhoto(id);
      if (!photo) throw new DoppelError('not-found', `No photo with id ${id}`);
      if (!photo.hash)
        throw new DoppelError('invalid-argument', `${photo.path} has no content hash (it could not be read)`);
      return photo.hash;
    }) as [string, string];
  }

  async markNotDuplicate(photoA: number, photoB: number): Promise<void> {
    this.store.addNotDuplicate(...this.hashPair(photoA, photoB));
  }

  async clearNotDuplicate(photoA: number, photoB: number): Promise<void> {
    this.store.removeNotDuplicate(...this.hashPair(photoA, photoB));
  }

  async trashPhotos(photoIds: number[], opts: TrashOptions): Promise<TrashReport> {
    // Not while indexing: the indexer could write back a photo that is on its way to the trash.
    while (this.indexing) await this.indexing.catch(() => undefined);
    const { removedIds, ...report } = await trashPhotos(this.store, this.trasher, photoIds, opts);
    this.search?.sync();
    if (removedIds.length > 0) this.emit('libraryChanged', { added: 0, updated: 0, removed: removedIds.length });
    return report;
  }

  async undoLastAction(): Promise<UndoReport> {
    while (this.indexing) await this.indexing.catch(() => undefined);
    const outcome = await undoLastAction(this.store, this.trasher);
    const folders = outcome.folderIds.flatMap((id) => this.store.getFolder(id) ?? []);
    if (folders.length > 0) await this.indexFolders(folders);
    const reindexed = outcome.restored.filter((p) => this.store.getPhotoByPath(p)?.status === 'indexed').length;
    const { actionId, restored, failed, retried } = outcome;
    return { actionId, restored, failed, reindexed, retried };
  }
}
