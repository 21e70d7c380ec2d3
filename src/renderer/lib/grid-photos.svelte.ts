// What the library grid shows: every photo's id, aspect ratio and month (photoLayout, read whole, ~6 bytes a photo),
// and the records of the photos in view (getPhotos, a page of ids at a time, cached by id so that a new sort or a
// refreshed library shows what it has at once).
import { SvelteMap } from 'svelte/reactivity';
import { ASPECT_SCALE, type PhotoInfo, type PhotoLayout, type PhotoQuery } from '../../shared/api.js';
import type { Client } from './client.js';

export type GridSort = NonNullable<PhotoQuery['sort']>;

/** The layout as the grid uses it: typed arrays, aspect ratios as numbers (0: no size). */
export interface GridOrder {
  count: number;
  ids: Uint32Array;
  aspects: Float64Array;
  sections: { key: string; start: number; count: number }[];
  /** The sort and library version it was read for. */
  key: string;
}

/** A date section as the jump list offers it. */
export interface GridSection {
  key: string;
  label: string;
}

/** Photos a page of records holds (one getPhotos call). */
export const PAGE = 256;
/** At most one round of page requests this often while the view moves (a fast scroll asks only where it stops). */
const FETCH_EVERY_MS = 80;
/** Records kept: past this, those far from the view are dropped. */
const MAX_CACHED = 12_000;

/** A typed array over a byte array's bytes, copied when they are not aligned for it. */
function view<T>(bytes: Uint8Array, make: (buffer: ArrayBuffer, offset: number, length: number) => T, size: number): T {
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return make(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / size);
}

export function decodeLayout(layout: PhotoLayout, key: string): GridOrder {
  const ids = view(layout.ids, (b, o, n) => new Uint32Array(b, o, n), 4);
  const packed = view(layout.aspects, (b, o, n) => new Uint16Array(b, o, n), 2);
  const aspects = new Float64Array(packed.length);
  for (let i = 0; i < packed.length; i++) aspects[i] = packed[i]! / ASPECT_SCALE;
  return { count: Math.min(layout.count, ids.length, aspects.length), ids, aspects, sections: layout.sections, key };
}

export class GridPhotos {
  /** The order shown: kept while a newer one is read, so a refresh neither blanks the grid nor moves the focus. */
  order = $state.raw<GridOrder | null>(null);
  /** Page requests in flight (the page exposes it, so that a test can wait for the grid to settle). */
  pending = $state(0);
  readonly #client: Client;
  readonly #onerror: (err: unknown) => void;
  readonly #photos = new SvelteMap<number, PhotoInfo>();
  /** The library version each cached record was read at, by id (bookkeeping, not state). */
  #readAt: Record<number, number> = {};
  #version = 0;
  #layoutAsked = 0;
  #wanted: [number, number] | null = null;
  #lastFetch = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The pages being read, by `${order key}:${page}`. */
  readonly #inFlight: Record<string, true> = {};

  constructor(client: Client, onerror: (err: unknown) => void) {
    this.#client = client;
    this.#onerror = onerror;
  }

  /** Reads the layout for a sort at a library version (the newest call wins). */
  async load(sort: GridSort, version: number): Promise<void> {
    const asked = ++this.#layoutAsked;
    this.#version = version;
    const key = `${sort}:${version}`;
    try {
      const layout = await this.#client.api.photoLayout({ sort });
      if (asked !== this.#layoutAsked) return;
      this.order = decodeLayout(layout, key);
      if (this.#wanted) this.want(...this.#wanted);
    } catch (err) {
      if (asked === this.#layoutAsked) this.#onerror(err);
    }
  }

  /** The record of the photo at a position, once read (possibly at an older library version until the new one comes). */
  photoAt(index: number): PhotoInfo | undefined {
    const order = this.order;
    return order && index >= 0 && index < order.count ? this.#photos.get(order.ids[index]!) : undefined;
  }

  /** The photos at positions [first, last] are in view: their pages are read if they are not already. */
  want(first: number, last: number): void {
    this.#wanted = [first, last];
    if (this.#timer) return;
    const wait = this.#lastFetch + FETCH_EVERY_MS - performance.now();
    if (wait <= 0) this.#fetchWanted();
    else
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#fetchWanted();
      }, wait);
  }

  #fetchWanted(): void {
    const order = this.order;
    if (!order || !this.#wanted) return;
    this.#lastFetch = performance.now();
    const [first, last] = this.#wanted;
    for (let page = Math.floor(Math.max(0, first) / PAGE); page * PAGE <= Math.min(last, order.count - 1); page++)
      void this.#fetchPage(order, page);
  }

  async #fetchPage(order: GridOrder, page: number): Promise<void> {
    const version = this.#version;
    const ids = [...order.ids.subarray(page * PAGE, Math.min(order.count, (page + 1) * PAGE))];
    if (ids.every((id) => this.#readAt[id] === version)) return;
    const flight = `${order.key}:${page}`;
    if (this.#inFlight[flight]) return;
    this.#inFlight[flight] = true;
    this.pending++;
    try {
      const photos = await this.#client.api.getPhotos(ids);
      for (const photo of photos) this.#photos.set(photo.id, photo);
      // Ids the library no longer has are read too (they stay placeholders until the next layout drops them).
      for (const id of ids) this.#readAt[id] = version;
      this.#evict(page);
    } catch (err) {
      this.#onerror(err);
    } finally {
      delete this.#inFlight[flight];
      this.pending--;
    }
  }

  /** Past MAX_CACHED records, keeps only those within a few thousand photos of the page just read. */
  #evict(page: number): void {
    const order = this.order;
    if (!order || this.#photos.size <= MAX_CACHED) return;
    const keep: Record<number, true> = {};
    for (const id of order.ids.subarray(Math.max(0, (page - 16) * PAGE), (page + 17) * PAGE)) keep[id] = true;
    for (const id of [...this.#photos.keys()]) if (!keep[id]) this.#photos.delete(id);
    const readAt: Record<number, number> = {};
    for (const id of Object.keys(keep))
      if (this.#readAt[Number(id)] !== undefined) readAt[Number(id)] = this.#readAt[Number(id)]!;
    this.#readAt = readAt;
  }

  /** The records of these photos, read where they are not cached (the trash question needs their sizes). */
  async photos(ids: readonly number[]): Promise<PhotoInfo[]> {
    const missing = ids.filter((id) => !this.#photos.has(id));
    const read: Record<number, PhotoInfo> = {};
    for (let i = 0; i < missing.length; i += 10_000)
      for (const photo of await this.#client.api.getPhotos(missing.slice(i, i + 10_000))) read[photo.id] = photo;
    return ids.flatMap((id) => {
      const photo = this.#photos.get(id) ?? read[id];
      return photo ? [photo] : [];
    });
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
