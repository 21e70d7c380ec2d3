// Find similar: the photos nearest a library photo or a query image, by its vector and, when the library finds
// cropped copies, by its corner views and by the library's views (the photo a crop was cut from).
import { DoppelError, type SimilarResult } from '../../shared/api.js';
import type { ModelInputSpec } from '../imaging/analyze.js';
import { imageToModelInput } from '../imaging/analyze.js';
import type { Store } from '../store/repository.js';
import { nearestByViews, viewFloor, viewScore } from './crop-views.js';
import type { CompactIndex } from './search-index.js';

/** The corner views in force: their crop and the stretch that puts a view's similarity on the common scale. */
export interface SimilarCrops {
  fraction: number;
  stretch: number;
}

export interface FindSimilarOptions {
  store: Store;
  modelId: number;
  /** The library's search index, up to date. */
  index: () => CompactIndex;
  /** The corner views in force, or null when the library does not find cropped copies. */
  crops: () => SimilarCrops | null;
  /** The model that encodes query images (a LazyModel). */
  model: QueryEncoder;
}

/** What find similar needs of a model. */
export interface QueryEncoder {
  readonly inputSpec: ModelInputSpec;
  encode(inputs: readonly Uint8Array[]): Promise<Float32Array[]>;
  encodeWithViews(inputs: readonly Uint8Array[]): Promise<{ vectors: Float32Array[]; views: Float32Array[][] }>;
}

interface Query {
  vector: ArrayLike<number>;
  views: readonly Float32Array[];
  exclude?: ReadonlySet<number>;
}

export class FindSimilar {
  constructor(private readonly opts: FindSimilarOptions) {}

  /** The k photos most like a library photo (never the photo itself). */
  toPhoto(photoId: number, k: number): SimilarResult[] {
    const index = this.opts.index();
    const vector = index.get(photoId);
    if (!vector) throw new DoppelError('not-found', `Photo ${photoId} is not indexed`);
    const crops = this.opts.crops();
    const views = crops ? (this.opts.store.getViews(photoId, this.opts.modelId, crops.fraction) ?? []) : [];
    const [found] = this.searchWithViews(index, [{ vector, views, exclude: new Set([photoId]) }], crops, k);
    return this.toResults(found!);
  }

  /** Many query images at once: decoded one by one, encoded in batches. */
  async toImages(images: readonly Uint8Array[], k: number): Promise<SimilarResult[][]> {
    const crops = this.opts.crops();
    const inputs = await Promise.all(images.map((img) => imageToModelInput(img, this.opts.model.inputSpec)));
    if (crops) {
      // A query image's corner views find the library photos that are crops of it.
      const { vectors, views } = await this.opts.model.encodeWithViews(inputs);
      const queries = vectors.map((vector, i) => ({ vector, views: views[i]! }));
      return this.searchWithViews(this.opts.index(), queries, crops, k).map((found) => this.toResults(found));
    }
    const codes = await this.opts.model.encode(inputs);
    const queries = codes.map((vector) => ({ vector, views: [] }));
    return this.searchWithViews(this.opts.index(), queries, null, k).map((found) => this.toResults(found));
  }

  private toResults(neighbours: { id: number; score: number }[]): SimilarResult[] {
    return neighbours.flatMap(({ id, score }) => {
      const photo = this.opts.store.getPhoto(id);
      return photo ? [{ photo: { id, path: photo.path, width: photo.width, height: photo.height }, score }] : [];
    });
  }

  /**
   * For each query, the k best photos for its vector and, when finding cropped copies (`crops`), for its corner
   * views too, and the photos one of whose views is near its vector (the photo a crop was cut from; the library's
   * views are read once for all the queries). A view's similarity is put on the common scale with the stretch
   * (crop-views.ts). Each photo once, at its best.
   */
  private searchWithViews(
    index: CompactIndex,
    queries: readonly Query[],
    crops: SimilarCrops | null,
    k: number,
  ): { id: number; score: number }[][] {
    const found = queries.map((q) => index.search(q.vector, k, q.exclude));
    if (!crops) return found;
    // Only views that could rank among the k found so far (on the common scale) need to be kept.
    const rawFloor = (own: { score: number }[]): number => {
      const floor = own.length >= k ? own[own.length - 1]!.score : -1;
      return viewFloor(floor, crops.stretch);
    };
    const { store, modelId } = this.opts;
    const cutFrom = nearestByViews(
      (fn) => store.forEachViewBytes(modelId, crops.fraction, fn),
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
}
