// What an indexing run is given: its options, and what it needs of the model it encodes with.
import type { IndexProgress } from '../../shared/api.js';
import type { ModelInputSpec } from '../imaging/analyze.js';
import type { EncodedWithViews } from '../model/card.js';

export interface IndexOptions {
  exclude?: string[];
  /** Where display thumbnails are cached (by content hash). */
  thumbnailDir: string;
  batchSize?: number;
  /** Files read and decoded at once (default: two per core). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Awaited between batches; resolves when indexing may go on (how pause is implemented). */
  whenRunnable?: () => Promise<void>;
  onProgress?: (p: IndexProgress) => void;
  /** Called after each batch is committed, so a search index can catch up (from SQLite's change log). */
  onBatch?: () => void;
  /**
   * "Find cropped copies": also store each photo's four corner views, keeping this fraction of each side
   * (search/crop-views.ts; the model's predictor makes them, see model/view-predictor.ts). Photos indexed without
   * them get them from their cached thumbnail.
   */
  cropViews?: number;
}

/** What indexing needs of a model: an Autoencoder, or a LazyModel whose weights load once decoding has begun. */
export interface IndexModel {
  readonly name: string;
  /** The name its vectors are stored under (CardDerived.vectorKey). */
  readonly vectorKey: string;
  readonly dim: number;
  readonly inputSize: number;
  readonly inputSpec: ModelInputSpec;
  encode(inputs: readonly Uint8Array[]): Float32Array[] | Promise<Float32Array[]>;
  /** Vectors with each input's corner views (runs with cropViews; the model's card has a view predictor). */
  encodeWithViews(inputs: readonly Uint8Array[]): EncodedWithViews | Promise<EncodedWithViews>;
  /** Called once the first files are being decoded: a lazily loaded model starts loading alongside. */
  prepare?(): void;
}
