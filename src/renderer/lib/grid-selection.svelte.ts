// The library grid's selection, by photo id (it survives a new sort and a refreshed library): a click selects one
// photo, Ctrl/Cmd-click and Space toggle one, Shift-click and Shift+arrows extend a range from the anchor (the photo
// last clicked or toggled) over what was selected before it.
import { SvelteSet } from 'svelte/reactivity';

export class GridSelection {
  readonly ids = new SvelteSet<number>();
  /** The photo ranges extend from, by id; null before any click. */
  #anchor: number | null = null;
  /** What was selected when the anchor was set: a range is added to it, not to the previous range. */
  #base: number[] = [];

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** Only this photo, which becomes the anchor. */
  only(id: number): void {
    this.ids.clear();
    this.ids.add(id);
    this.#setAnchor(id);
  }

  /** Adds or removes this photo, which becomes the anchor. */
  toggle(id: number): void {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.#setAnchor(id);
  }

  /** Sets the anchor without changing the selection (focus moved by an arrow key). */
  anchorAt(id: number): void {
    this.#setAnchor(id);
  }

  /**
   * Selects the range from the anchor to `index` in `ids` (the grid's order), added to what was selected when the
   * anchor was set; without an anchor (or one no longer listed), from `from`.
   */
  extend(ids: Uint32Array, count: number, index: number, from: number): void {
    let anchor = this.#anchor === null ? -1 : ids.subarray(0, count).indexOf(this.#anchor);
    if (anchor < 0) {
      anchor = from;
      this.#setAnchor(ids[from]!);
    }
    const [lo, hi] = anchor <= index ? [anchor, index] : [index, anchor];
    this.ids.clear();
    for (const id of this.#base) this.ids.add(id);
    for (let i = lo; i <= hi; i++) this.ids.add(ids[i]!);
  }

  /** Every photo in `ids`. */
  all(ids: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) this.ids.add(ids[i]!);
  }

  clear(): void {
    this.ids.clear();
    this.#base = [];
  }

  /** Forgets photos that are gone from the library (moved to the trash). */
  remove(ids: Iterable<number>): void {
    for (const id of ids) this.ids.delete(id);
  }

  #setAnchor(id: number): void {
    this.#anchor = id;
    this.#base = [...this.ids].filter((s) => s !== id);
  }
}
