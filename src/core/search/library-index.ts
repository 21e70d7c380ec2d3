// The library's search index as the service holds it: opened on first use (library-search.ts), synced with SQLite's
// change log before every use, its partition trained for whole-library scans.
import type { Store } from '../store/repository.js';
import { LibrarySearch } from './library-search.js';
import type { CompactIndex } from './search-index.js';

export interface LibraryIndexOptions {
  store: Store;
  modelId: number;
  /** The name the model's vectors are stored under. */
  modelName: string;
  dim: number;
  /** The library's database file, or ':memory:' (no snapshot). */
  dbPath: string;
}

export class LibraryIndex {
  private search: LibrarySearch | null = null;

  constructor(private readonly opts: LibraryIndexOptions) {}

  /**
   * The search index, loaded on first use from its snapshot beside the library (`<db>.search`) or from SQLite, then
   * brought up to date from SQLite's change log, whoever changed the vectors (an indexing worker, another process).
   */
  index(): CompactIndex {
    if (!this.search) {
      const { store, modelId, modelName, dim, dbPath } = this.opts;
      const dir = dbPath === ':memory:' ? null : `${dbPath}.search`;
      this.search = LibrarySearch.open({ store, modelId, modelName, dim, dir });
      void this.search.ensurePartition();
    } else this.search.sync();
    return this.search.index;
  }

  /**
   * The index for a whole-library scan: with its partition when the library is large enough (trained now if it has
   * none yet; one it has outgrown still serves while its successor trains).
   */
  async scanIndex(): Promise<CompactIndex> {
    const index = this.index();
    if (index.wantsPartition && !index.partition) await this.search!.ensurePartition();
    else void this.search!.ensurePartition();
    return this.index();
  }

  /** Catches up with the change log, if the index is loaded. */
  sync(): void {
    this.search?.sync();
  }

  /** After an indexing run: the snapshot saved, the partition (re)trained in the background when due. */
  saved(): void {
    this.search?.save();
    void this.search?.ensurePartition();
  }

  close(): void {
    this.search?.close();
  }
}
