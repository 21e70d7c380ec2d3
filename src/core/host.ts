// What the engine's hosts (the Electron main process, the CLI, the bridge, tests) open a service with, what a
// service is made of, and what hosts use of it beyond the front doors' DoppelApi.
import path from 'node:path';
import type * as api from '../shared/api.js';
import type { ScanReport } from './duplicates/scan.js';
import type { Trasher } from './duplicates/trash.js';
import type { IndexOptions } from './indexer/indexer.js';
import { IndexWorker } from './indexer/worker-client.js';
import type { WatchRequest } from './library/watching.js';
import type { MediaLibrary } from './media.js';
import { ModelInfo } from './model/card.js';
import { LazyModel } from './model/lazy-model.js';
import { restrictToOwner, thumbnailDirFor } from './paths.js';
import type { ThresholdDefaults } from './settings.js';
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

/** The host-only members of DoppelService. */
export interface DoppelHost {
  readonly store: Store;
  readonly model: LazyModel;
  readonly dbPath: string;
  close(): Promise<void>;
  mediaLibrary(): MediaLibrary;
  unansweredReads(): number;
  countPhotos(): number;
  indexFolders(
    folders: readonly api.FolderInfo[],
    opts?: Pick<IndexOptions, 'exclude' | 'signal'>,
  ): Promise<api.IndexSummary>;
  whenParked(): Promise<void>;
  startWatching(opts?: WatchRequest): Promise<api.IndexStatus>;
  stopWatching(): Promise<api.IndexStatus>;
  onWatchError(listener: (message: string) => void): () => void;
  thresholds(): { near: number; similar: number };
  thresholdDefaults(): ThresholdDefaults;
  readonly lastScan: ScanReport | null;
  readonly lastVerification: { fresh: number; cached: number; skipped: number } | null;
}

/** What a service is made of: the library (migrated), its model's card, and the indexing worker if started early. */
export interface ServiceParts {
  store: Store;
  model: LazyModel;
  dbPath: string;
  modelsDir: string;
  worker: Promise<IndexWorker | null> | null;
}

/**
 * Opens the library (its private folders restricted to the owner) and reads the model's card; with `startIndexer`
 * the worker opens the (by now migrated) database and loads its model while this thread loads its own. Nothing is
 * left open when the model cannot be read.
 */
export async function openParts(opts: ServiceOptions): Promise<ServiceParts> {
  const dbPath = opts.dbPath === ':memory:' ? opts.dbPath : path.resolve(opts.dbPath);
  const modelsDir = path.resolve(opts.modelsDir);
  const store = Store.open(dbPath);
  if (dbPath !== ':memory:') restrictToOwner([thumbnailDirFor(dbPath), `${dbPath}.search`], 0o700);
  const worker =
    opts.startIndexer && dbPath !== ':memory:'
      ? IndexWorker.start({ dbPath, modelsDir, model: opts.model }).catch(() => null) // retried on first use
      : null;
  try {
    return { store, model: new LazyModel(ModelInfo.read(opts.modelsDir, opts.model)), dbPath, modelsDir, worker };
  } catch (err) {
    store.close();
    await (await worker)?.close();
    throw err;
  }
}
