// Justified rows, as Google Photos and Immich lay out a library: each row holds photos at their own aspect ratios,
// scaled to one height so that the row fills the width exactly; the last row of a section keeps the target height,
// left-aligned. Pure functions of numbers (no DOM), fast enough for 100,000 photos on every resize.

export interface JustifyOptions {
  /** The width every full row fills, in px. */
  width: number;
  /** The height a row aims at; the last row of a section has it. */
  targetHeight: number;
  /** Between photos in a row and between rows. */
  gap: number;
  /** The lowest a full row may be (default: half the target). A lone panorama is shown this high, cropped. */
  minHeight?: number;
  /** The highest a full row may be (default: 1.6 times the target). A lone tall photo is shown this high, cropped. */
  maxHeight?: number;
}

export interface JustifiedRow {
  /** The row's first photo (its index in the input) and how many it holds. */
  start: number;
  count: number;
  top: number;
  height: number;
  /** The row fills the width exactly; false for a section's last row when it is shorter than the width. */
  full: boolean;
}

/** A section's heading above its rows (sections are given as runs of photos). */
export interface LaidOutHeader {
  section: number;
  top: number;
}

export interface GridLayout {
  rows: JustifiedRow[];
  headers: LaidOutHeader[];
  /** Per photo: its box's left edge and width in px (integers; a full row's last box ends at `width`). */
  left: Float64Array;
  width: Float64Array;
  /** Per photo: the index of its row in `rows`. */
  rowOf: Int32Array;
  /** From the top of the first heading or row to the bottom of the last row. */
  height: number;
}

/** Photos narrower than this (width / height) are laid out at this ratio and cropped: a 1:20 sliver stays visible. */
export const MIN_LAYOUT_ASPECT = 0.25;

/** The ratio a photo is laid out at: unknown (0, NaN) is a square, slivers are widened to MIN_LAYOUT_ASPECT. */
export function layoutAspect(aspect: number): number {
  return Number.isFinite(aspect) && aspect > 0 ? Math.max(MIN_LAYOUT_ASPECT, aspect) : 1;
}

/**
 * Lays out the photos [from, to) of `aspects` (width / height each) in justified rows starting at `top`: fills
 * `out.left`, `out.width`, `out.rowOf` for them and appends their rows to `out.rows`; returns the bottom of the last
 * row (`top` when there are none).
 *
 * Greedy, one pass: photos join the row while its height at the full width stays above the target; the photo that
 * would take it below joins only if that leaves the row nearer the target (in ratio) than closing the row without
 * it. A full row's height is then kept within [minHeight, maxHeight]: outside them its boxes are widened or narrowed
 * alike so the row still fills the width (their photos cropped by object-fit: cover).
 */
export function justify(
  aspects: ArrayLike<number>,
  options: JustifyOptions,
  out: Pick<GridLayout, 'rows' | 'left' | 'width' | 'rowOf'>,
  from = 0,
  to = aspects.length,
  top = 0,
): number {
  const width = Math.max(1, options.width);
  const gap = Math.max(0, options.gap);
  const target = Math.max(1, options.targetHeight);
  const minHeight = Math.min(target, options.minHeight ?? target / 2);
  const maxHeight = Math.max(target, options.maxHeight ?? target * 1.6);
  let y = top;
  let first = true;
  let i = from;
  while (i < to) {
    const start = i;
    let sum = 0;
    let height = target;
    let full = true;
    for (;;) {
      const a = layoutAspect(aspects[i]!);
      const k = i - start + 1;
      const heightWith = (width - gap * (k - 1)) / (sum + a);
      if (heightWith > target) {
        sum += a;
        i++;
        if (i === to) {
          // The section's last row: shorter than the width at the target height; left-aligned.
          full = false;
          height = target;
          break;
        }
        continue;
      }
      if (k === 1) {
        sum = a;
        i++;
        height = heightWith;
        break;
      }
      const heightWithout = (width - gap * (k - 2)) / sum;
      if (Math.abs(Math.log(heightWith / target)) <= Math.abs(Math.log(heightWithout / target))) {
        sum += a;
        i++;
        height = heightWith;
      } else height = heightWithout;
      break;
    }
    if (!first) y += gap;
    first = false;
    const count = i - start;
    const rowHeight = Math.round(full ? Math.min(maxHeight, Math.max(minHeight, height)) : height);
    // A full row's boxes share the width left after the gaps in proportion to their ratios (exactly their photos'
    // shapes unless the height was clamped); a last row's boxes are the photos' shapes at the target height.
    const available = width - gap * (count - 1);
    const scale = full ? available / sum : rowHeight;
    const row = out.rows.length;
    let x = 0;
    for (let j = start; j < i; j++) {
      const left = Math.round(x);
      x += layoutAspect(aspects[j]!) * scale;
      const right = full && j === i - 1 ? width : Math.round(x);
      out.left[j] = left;
      out.width[j] = Math.max(1, right - left);
      out.rowOf[j] = row;
      x += gap;
    }
    out.rows.push({ start, count, top: y, height: rowHeight, full });
    y += rowHeight;
  }
  return y;
}

export interface GridOptions extends JustifyOptions {
  /** A section heading's height; the heading sits above its section's rows. */
  headerHeight: number;
  /** Space between one section's last row and the next heading. */
  sectionGap: number;
}

/**
 * The whole grid: every photo's box, in sections (runs `{ start, count }` covering the photos in order, each under
 * a heading) or, without sections, as one run without a heading.
 */
export function layoutGrid(
  aspects: ArrayLike<number>,
  sections: readonly { start: number; count: number }[] | null,
  options: GridOptions,
): GridLayout {
  const n = aspects.length;
  const out: GridLayout = {
    rows: [],
    headers: [],
    left: new Float64Array(n),
    width: new Float64Array(n),
    rowOf: new Int32Array(n),
    height: 0,
  };
  if (!sections || sections.length === 0) {
    out.height = justify(aspects, options, out, 0, n, 0);
    return out;
  }
  let y = 0;
  sections.forEach((section, s) => {
    if (s > 0) y += options.sectionGap;
    out.headers.push({ section: s, top: y });
    y += options.headerHeight;
    const from = Math.min(n, section.start);
    y = justify(aspects, options, out, from, Math.min(n, from + section.count), y);
  });
  out.height = y;
  return out;
}

/** The first row whose bottom is below `y` (rows.length when none is): binary search over the rows' tops. */
export function rowAt(rows: readonly JustifiedRow[], y: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const row = rows[mid]!;
    if (row.top + row.height <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rows that reach into [top, bottom): [first, last], or null when none does. */
export function rowsBetween(rows: readonly JustifiedRow[], top: number, bottom: number): [number, number] | null {
  const first = rowAt(rows, top);
  if (first >= rows.length || rows[first]!.top >= bottom) return null;
  let last = first;
  let hi = rows.length - 1;
  // The last row whose top is above `bottom`.
  let lo = first;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.top < bottom) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return [first, last];
}

/** In row `row`, the photo whose box is nearest to the horizontal position x (a box holding x is nearest). */
export function nearestInRow(layout: Pick<GridLayout, 'rows' | 'left' | 'width'>, row: number, x: number): number {
  const r = layout.rows[row]!;
  let best = r.start;
  let bestDistance = Infinity;
  for (let i = r.start; i < r.start + r.count; i++) {
    const left = layout.left[i]!;
    const right = left + layout.width[i]!;
    const distance = x < left ? left - x : x > right ? x - right : 0;
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}
