// What the engine's hosts (the Electron main process, the CLI, the bridge, tests) open a service with, and what
// they use of it beyond the front doors' DoppelApi.
import type * as api from '../shared/api.js';
import type { ScanReport } from './duplicates/scan.js';
import type { Trasher } from './duplicates/trash.js';
import type { IndexOptions } from './indexer/indexer.js';
import type { WatchRequest } from './library/watching.js';
import type { MediaLibrary } from './media.js';
import type { LazyModel } from './model/lazy-model.js';
import type { ThresholdDefaults } from './settings.js';
import type { Store } from './store/repository.js';

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
