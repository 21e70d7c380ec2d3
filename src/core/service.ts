// DoppelService: the engine behind every front door (Electron IPC, CLI, loopback bridge). A facade: each job lives
// in its room (library/folders.ts and watching.ts, indexer/runs.ts, search/library-index.ts and find-similar.ts,
// duplicates/review.ts and actions.ts, model/reconstruct.ts, settings.ts); this file wires them to one library, one
// model and the event bus (events.ts). What hosts open and use beyond DoppelApi is in host.ts. Its length is
// DoppelApi's members, each a statement or two, and the wiring of the rooms.
import type * as api from '../shared/api.js';
import { trashPhotos, undoLastAction } from './duplicates/actions.js';
import { exportGroups } from './duplicates/export.js';
import { DuplicateReview } from './duplicates/review.js';
import type { ScanReport } from './duplicates/scan.js';
import { systemTrasher, type Trasher } from './duplicates/trash.js';
import { EventBus, type Listener } from './events.js';
import { openParts, type DoppelHost, type ServiceOptions } from './host.js';
import type { IndexOptions } from './indexer/indexer.js';
import { IndexRuns } from './indexer/runs.js';
import { IndexWorker } from './indexer/worker-client.js';
import { LibraryFolders } from './library/folders.js';
import { unansweredReads } from './library/read-file.js';
import { LibraryWatching, type WatchRequest } from './library/watching.js';
import type { MediaLibrary } from './media.js';
import { LazyModel } from './model/lazy-model.js';
import { reconstructFile, reconstructImage } from './model/reconstruct.js';
import { thumbnailDirFor } from './paths.js';
import { FindSimilar } from './search/find-similar.js';
import { LibraryIndex } from './search/library-index.js';
import { LibrarySettings, type ThresholdDefaults } from './settings.js';
import { Store } from './store/repository.js';

export type { DoppelHost, ServiceOptions } from './host.js';

export class DoppelService implements api.DoppelApi, DoppelHost {
  private readonly events = new EventBus();
  private readonly config: LibrarySettings;
  private readonly search: LibraryIndex;
  private readonly folders: LibraryFolders;
  private readonly runs: IndexRuns;
  private readonly watch: LibraryWatching;
  private readonly similar: FindSimilar;
  private readonly review: DuplicateReview;

  private constructor(
    readonly store: Store,
    /** The model's card now, its weights (and TensorFlow.js) on first use: most commands never encode. */
    readonly model: LazyModel,
    readonly dbPath: string,
    readonly trasher: Trasher,
    modelsDir: string,
    worker: Promise<IndexWorker | null> | null,
  ) {
    const modelId = store.ensureModel({ name: model.vectorKey, dim: model.dim, inputSize: model.inputSize });
    const thumbnailDir = thumbnailDirFor(dbPath);
    this.config = new LibrarySettings(store, model.card, model.vectorKey);
    this.search = new LibraryIndex({ store, modelId, modelName: model.vectorKey, dim: model.dim, dbPath });
    this.folders = new LibraryFolders({
      store,
      changed: () => this.watch.rewatch(),
      removed: (ids) => this.changed({ added: 0, updated: 0, removed: ids.length }),
    });
    this.runs = new IndexRuns({
      ...{ store, model, dbPath, modelsDir, worker },
      onProgress: (p) => this.events.emit('progress', p),
      onStateChange: () => void this.statusChanged(),
      runOptions: () => {
        const crops = this.config.cropViews();
        // After each batch the index catches up from SQLite's change log.
        return { ...(crops ? { cropViews: crops.fraction } : {}), thumbnailDir, onBatch: () => this.search.sync() };
      },
      afterRun: ({ added, updated, removed }) => {
        this.search.saved();
        this.events.emit('libraryChanged', { added, updated, removed });
      },
    });
    this.watch = new LibraryWatching({
      folders: () => store.listFolders(),
      settings: () => this.config.current(),
      index: (folders) => this.indexFolders(folders, { exclude: this.config.current().exclude }),
      onStateChange: () => this.statusChanged(),
    });
    this.similar = new FindSimilar({
      ...{ store, modelId, model },
      index: () => this.search.index(),
      crops: () => this.config.cropViews(),
    });
    this.review = new DuplicateReview({
      ...{ store, modelId, inputSpec: model.inputSpec, thumbnailDir },
      encode: (inputs) => model.encode(inputs),
      inForce: () => this.config.forScans(),
      index: () => this.search.scanIndex(),
      onProgress: (p) => this.events.emit('duplicateScan', p),
    });
  }

  /** Opens the library and its model (host.ts openParts), the indexing worker started early when asked. */
  static async open(opts: ServiceOptions): Promise<DoppelService> {
    const { store, model, dbPath, modelsDir, worker } = await openParts(opts);
    return new DoppelService(store, model, dbPath, opts.trasher ?? systemTrasher(), modelsDir, worker);
  }

  async close(): Promise<void> {
    await this.stopWatching();
    // A running (or paused) indexing run stops after its current batch; finished batches are kept.
    if (this.runs.running) await this.cancelIndexing();
    await this.runs.whenIdle();
    this.search.close();
    await this.runs.close();
    await this.review.close();
    this.store.close();
    await this.model.dispose();
  }

  /** Reads given up on, here and (once closed) in the indexing worker, still waiting on a drive (host.ts). */
  unansweredReads(): number {
    return unansweredReads() + this.runs.unansweredReads;
  }

  on<K extends keyof api.DoppelEvents>(event: K, listener: Listener<K>): () => void {
    return this.events.on(event, listener);
  }

  private changed(change: api.DoppelEvents['libraryChanged']): void {
    this.search.sync();
    this.events.emit('libraryChanged', change);
  }

  /** This library's photos and thumbnails as the media front doors (`doppel:` protocol, bridge) serve them. */
  mediaLibrary(): MediaLibrary {
    const { store } = this;
    const thumbnailDir = thumbnailDirFor(this.dbPath);
    return { getPhoto: (id) => store.getStoredPhoto(id), getFolder: (id) => store.getFolder(id), thumbnailDir };
  }

  /** Photos in the library (what info() reports as `photos`, without loading the model to name its backend). */
  countPhotos(): number {
    return this.store.countPhotos({ status: 'indexed' });
  }

  async info(): Promise<api.LibraryInfo> {
    const { name, dim, inputSize } = this.model;
    const model = { name, dim, inputSize, backend: (await this.model.load()).backend };
    const [photos, errors, folders] = [this.countPhotos(), this.store.countErrors(), this.folders.list().length];
    return { photos, errors, folders, model, dbPath: this.dbPath };
  }

  // Folders (library/folders.ts)
  async listFolders(): Promise<api.FolderInfo[]> {
    return this.folders.list();
  }
  async addFolder(folder: string, opts: { followSymlinks?: boolean } = {}): Promise<api.FolderInfo> {
    return this.folders.add(folder, opts);
  }
  async setFolderFollowSymlinks(folderId: number, follow: boolean): Promise<api.FolderInfo> {
    return this.folders.setFollowSymlinks(folderId, follow);
  }
  async setReferenceFolder(folderId: number, reference: boolean): Promise<api.FolderInfo> {
    return this.folders.setReference(folderId, reference);
  }
  async removeFolder(id: number): Promise<void> {
    return this.folders.remove(id);
  }

  // Indexing runs (indexer/runs.ts) and watching (library/watching.ts)
  async indexAll(): Promise<api.IndexSummary> {
    return this.indexFolders(this.folders.list(), { exclude: this.config.current().exclude });
  }

  indexFolders(folders: readonly api.FolderInfo[], opts?: Pick<IndexOptions, 'exclude' | 'signal'>) {
    return this.runs.run(folders, opts);
  }
  async indexStatus(): Promise<api.IndexStatus> {
    return { ...this.runs.state(), watching: this.watch.watching };
  }

  private async statusChanged(): Promise<api.IndexStatus> {
    const status = await this.indexStatus();
    this.events.emit('indexStatus', status);
    return status;
  }

  async pauseIndexing(): Promise<api.IndexStatus> {
    this.runs.pause();
    return this.statusChanged();
  }
  whenParked(): Promise<void> {
    return this.runs.whenParked();
  }
  async resumeIndexing(): Promise<api.IndexStatus> {
    this.runs.resume();
    return this.statusChanged();
  }
  async cancelIndexing(): Promise<api.IndexStatus> {
    this.runs.cancel();
    return this.statusChanged();
  }

  async startWatching(opts: WatchRequest = {}): Promise<api.IndexStatus> {
    await this.watch.start(opts);
    return this.indexStatus();
  }
  onWatchError(listener: (message: string) => void): () => void {
    return this.watch.onError(listener);
  }
  async stopWatching(): Promise<api.IndexStatus> {
    await this.watch.stop();
    return this.indexStatus();
  }

  // Photos, find similar (search/find-similar.ts), reconstructions (model/reconstruct.ts)
  async listPhotos(query: api.PhotoQuery): Promise<api.PhotoPage> {
    return this.store.listPhotos(query);
  }
  async photoLayout(query: api.PhotoLayoutQuery): Promise<api.PhotoLayout> {
    return this.store.photoLayout(query);
  }
  async getPhotos(ids: number[]): Promise<api.PhotoInfo[]> {
    return this.store.getPhotos(ids);
  }
  async listErrors(): Promise<api.FileError[]> {
    return this.store.listErrors();
  }
  async similarToPhoto(photoId: number, k: number): Promise<api.SimilarResult[]> {
    return this.similar.toPhoto(photoId, k);
  }
  async similarToImage(image: Uint8Array, k: number): Promise<api.SimilarResult[]> {
    return (await this.similar.toImages([image], k))[0]!;
  }
  async similarToImages(images: readonly Uint8Array[], k: number): Promise<api.SimilarResult[][]> {
    return this.similar.toImages(images, k);
  }
  async reconstructPhoto(photoId: number): Promise<api.Reconstruction> {
    return reconstructFile(this.model, this.store.getPhoto(photoId)?.path ?? null, photoId);
  }
  async reconstructImage(image: Uint8Array, scale = 1): Promise<api.Reconstruction> {
    return reconstructImage(this.model, image, scale);
  }

  // Settings (settings.ts)
  thresholdDefaults(): ThresholdDefaults {
    return this.config.defaults();
  }
  thresholds(): { near: number; similar: number } {
    return this.config.thresholds();
  }
  async getSettings(): Promise<api.Settings> {
    return this.config.current();
  }
  async updateSettings(update: api.SettingsUpdate): Promise<api.Settings> {
    const updated = this.config.update(update);
    if (update.watch !== undefined || update.exclude !== undefined) await this.watch.rewatch();
    return updated;
  }

  // The duplicate review (duplicates/review.ts)
  async findDuplicates(query: api.DuplicateQuery): Promise<api.DuplicateGroup[]> {
    return this.review.find(query);
  }
  get lastScan(): ScanReport | null {
    return this.review.lastScan;
  }
  get lastVerification(): DuplicateReview['lastVerification'] {
    return this.review.lastVerification;
  }
  async exportDuplicates(query: api.DuplicateQuery, format: api.ExportFormat): Promise<string> {
    return exportGroups(await this.findDuplicates(query), format);
  }
  async markNotDuplicate(photoA: number, photoB: number): Promise<void> {
    this.review.markNotDuplicate(photoA, photoB);
  }
  async clearNotDuplicate(photoA: number, photoB: number): Promise<void> {
    this.review.clearNotDuplicate(photoA, photoB);
  }

  // Trash and undo (duplicates/actions.ts)
  async trashPhotos(photoIds: number[], opts: api.TrashOptions): Promise<api.TrashReport> {
    // Not while indexing: the indexer could write back a photo that is on its way to the trash.
    await this.runs.whenIdle();
    const { removedIds, ...report } = await trashPhotos(this.store, this.trasher, photoIds, opts);
    if (removedIds.length > 0) this.changed({ added: 0, updated: 0, removed: removedIds.length });
    else this.search.sync();
    return report;
  }

  async undoLastAction(): Promise<api.UndoReport> {
    await this.runs.whenIdle();
    const { folderIds, actionId, restored, failed, retried } = await undoLastAction(this.store, this.trasher);
    const folders = folderIds.flatMap((id) => this.store.getFolder(id) ?? []);
    if (folders.length > 0) await this.indexFolders(folders);
    const reindexed = restored.filter((p) => this.store.getPhotoByPath(p)?.status === 'indexed').length;
    return { actionId, restored, failed, reindexed, retried };
  }
}
