// The search index of one library and model, kept equal to the vectors in SQLite: loaded from the snapshot
// beside the library when it can be trusted (snapshot.ts), else from SQLite; brought up to date from the
// per-photo change log that SQLite's triggers keep (migration 0040), whoever wrote the changes; its partition
// trained in the background once the library is large enough (and again once it has outgrown it), and saved
// with the rows.
import type { Store } from '../store/repository.js';
import type { SearchChanges } from '../store/search-changes.js';
import { CompactIndex, type PartitionOptions } from './search-index.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';

/** Changes, as a share of the library, from which a sync rebuilds the partition instead of updating it. */
const REBUILD_AFTER = 0.05;

export interface LibrarySearchOptions {
  store: Store;
  modelId: number;
  modelName: string;
  dim: number;
  /** Where the snapshot lives (`<library>.search`); null for none (an in-memory library). */
  dir: string | null;
  /**
   * Photos from which searches take their candidates from the partition's cells and graph (default
   * APPROXIMATE_FROM); whole-library scans go through the cells from SCAN_CELLS_FROM photos, or from this if lower.
   */
  approximateFrom?: number;
  partition?: PartitionOptions;
}

/** How the index was loaded, for tests and the benchmark. */
export interface LoadReport {
  from: 'snapshot' | 'database';
  /** Why the snapshot was not used (when from is 'database'). */
  reason?: string;
  /** Photos brought up to date from the change log after the snapshot. */
  caughtUp: number;
  partition: 'snapshot' | 'none';
}

export class LibrarySearch {
  readonly index: CompactIndex;
  readonly loaded: LoadReport;
  private generation = 0;
  private savedGeneration = -1;
  private savedPartition: unknown = null;
  private readonly changes: SearchChanges;
  private partitionBuild: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly opts: LibrarySearchOptions) {
    const { store, modelId, dim } = opts;
    this.changes = store.searchChanges(modelId);
    const source = (id: number): Float32Array | undefined => store.getVector(id, modelId) ?? undefined;
    const state = this.state();
    const snap = opts.dir
      ? readSnapshot(opts.dir, { model: opts.modelName, dim, token: state.token, generation: state.generation })
      : { reason: 'no snapshot for an in-memory library' };
    if ('header' in snap) {
      this.index = new CompactIndex(
        dim,
        source,
        Math.max(1024, snap.header.count),
        opts.approximateFrom,
        opts.partition,
      );
      this.index.loadRows(snap.ids, snap.data);
      this.index.attachPartition(snap.partition);
      this.generation = snap.header.generation;
      this.savedGeneration = snap.header.generation;
      this.savedPartition = this.index.partition;
      const caughtUp = this.sync();
      this.loaded = { from: 'snapshot', caughtUp, partition: snap.partition ? 'snapshot' : 'none' };
    } else {
      this.index = new CompactIndex(
        dim,
        source,
        Math.max(1024, store.countVectors(modelId)),
        opts.approximateFrom,
        opts.partition,
      );
      store.transaction(() => {
        this.generation = this.state().generation;
        store.forEachVector(modelId, (id, vector) => this.index.upsert(id, vector));
      });
      this.loaded = { from: 'database', reason: snap.reason, caughtUp: 0, partition: 'none' };
    }
  }

  static open(opts: LibrarySearchOptions): LibrarySearch {
    return new LibrarySearch(opts);
  }

  private state(): { token: string; generation: number } {
    return this.changes.state();
  }

  /**
   * Applies the changes made to the library's vectors since the index last saw it; returns how many photos.
   * When many photos changed at once (an indexing run), the partition is dropped and built again in the
   * background rather than each photo linked into it (the exact scan answers meanwhile).
   */
  sync(): number {
    const changed = this.opts.store.transaction(() => {
      const { generation } = this.state();
      if (generation === this.generation) return 0;
      const rows = this.changes.since(this.generation);
      if (this.index.partition && rows.length > REBUILD_AFTER * this.index.size) {
        this.index.attachPartition(null); // cancels a build in progress too: the next one starts afresh
        this.partitionBuild = null;
      }
      for (const { photoId, vector } of rows) {
        if (vector) this.index.upsert(photoId, vector);
        else this.index.remove(photoId);
      }
      this.generation = generation;
      return rows.length;
    });
    if (changed > 0 && this.index.wantsPartition && !this.closed) void this.ensurePartition();
    return changed;
  }

  /**
   * Trains the partition in the background when the library is large enough and has none, or has outgrown its
   * own; saves the snapshot when done. The same promise while a build runs.
   */
  ensurePartition(): Promise<void> {
    if (this.partitionBuild) return this.partitionBuild;
    if (!this.index.wantsPartition || this.closed) return Promise.resolve();
    const build = this.index
      .buildPartitionInBackground()
      .then((partition) => {
        if (partition && !this.closed) this.save();
      })
      .finally(() => {
        if (this.partitionBuild === build) this.partitionBuild = null;
      });
    this.partitionBuild = build;
    return build;
  }

  /** Writes the snapshot when the index changed since the last one (false: nothing to write, or nowhere). */
  save(): boolean {
    if (!this.opts.dir || this.closed) return false;
    this.sync();
    const partition = this.index.partition;
    if (this.generation === this.savedGeneration && partition === this.savedPartition) return false;
    writeSnapshot(
      this.opts.dir,
      { model: this.opts.modelName, dim: this.opts.dim, token: this.state().token, generation: this.generation },
      this.index.rows(),
      this.index.savedPartition(),
    );
    this.savedGeneration = this.generation;
    this.savedPartition = partition;
    return true;
  }

  /** Saves the snapshot and stops a partition build (it starts from scratch next time). */
  close(): void {
    try {
      this.save();
    } finally {
      this.closed = true;
      this.index.cancelBuild();
    }
  }
}
