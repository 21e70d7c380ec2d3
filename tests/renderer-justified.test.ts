// The library grid's justified rows (src/renderer/lib/justified.ts): full rows fill the width exactly, heights stay
// within bounds, panoramas and slivers are capped, sections each end with a left-aligned row.
import { describe, expect, it } from 'vitest';
import {
  justify,
  layoutGrid,
  nearestInRow,
  rowAt,
  rowsBetween,
  type GridLayout,
  type JustifyOptions,
} from '../src/renderer/lib/justified.js';
import { rng } from '../src/core/random.js';

const base: JustifyOptions = { width: 1400, targetHeight: 200, gap: 4 };

function run(aspects: number[], options: JustifyOptions = base): GridLayout {
  return layoutGrid(aspects, null, { ...options, headerHeight: 40, sectionGap: 16 });
}

/** Photos of a camera roll: landscape 4:3 and 3:2, portraits, squares, now and then a panorama. */
function roll(n: number, seed = 1): number[] {
  const rand = rng(seed);
  const shapes = [4 / 3, 3 / 2, 3 / 4, 2 / 3, 1, 16 / 9];
  return Array.from({ length: n }, () =>
    rand() < 0.03 ? 3 + rand() * 5 : shapes[Math.floor(rand() * shapes.length)]!,
  );
}

/** The right edge of a row's last box, and the gaps between its boxes. */
function edges(layout: GridLayout, row: number): { right: number; gaps: number[] } {
  const r = layout.rows[row]!;
  const gaps: number[] = [];
  for (let i = r.start + 1; i < r.start + r.count; i++)
    gaps.push(layout.left[i]! - (layout.left[i - 1]! + layout.width[i - 1]!));
  const last = r.start + r.count - 1;
  return { right: layout.left[last]! + layout.width[last]!, gaps };
}

describe('justified rows', () => {
  it.each([900, 1400, 1920])('fill the width exactly at %i px, every row but the last', (width) => {
    const aspects = roll(2000, width);
    const layout = run(aspects, { ...base, width });
    expect(layout.rows.length).toBeGreaterThan(10);
    layout.rows.forEach((row, r) => {
      const { right, gaps } = edges(layout, r);
      expect(layout.left[row.start]).toBe(0);
      for (const gap of gaps) expect(gap).toBe(4);
      if (r < layout.rows.length - 1) {
        expect(row.full).toBe(true);
        expect(right).toBe(width);
      } else {
        expect(row.full).toBe(false);
        expect(row.height).toBe(200);
        expect(right).toBeLessThanOrEqual(width);
      }
    });
    // Every photo is in exactly one row, in order; rows stack with the gap between them.
    expect(layout.rows.reduce((n, r) => n + r.count, 0)).toBe(aspects.length);
    for (let r = 1; r < layout.rows.length; r++) {
      const [above, row] = [layout.rows[r - 1]!, layout.rows[r]!];
      expect(row.start).toBe(above.start + above.count);
      expect(row.top).toBe(above.top + above.height + 4);
    }
    const last = layout.rows.at(-1)!;
    expect(layout.height).toBe(last.top + last.height);
  });

  it('keeps row heights within bounds and boxes at their photos’ shapes', () => {
    const layout = run(roll(5000, 7));
    let exact = 0;
    for (const row of layout.rows.slice(0, -1)) {
      expect(row.height).toBeGreaterThanOrEqual(100);
      expect(row.height).toBeLessThanOrEqual(320);
      // Near the target: the greedy choice keeps most rows within a third of it.
      if (row.height >= 150 && row.height <= 270) exact++;
    }
    expect(exact / (layout.rows.length - 1)).toBeGreaterThan(0.95);
    // A box is its photo's shape within the rounding of its edges (its row's height was not clamped).
    const aspects = roll(5000, 7);
    for (let i = 0; i < 500; i++) {
      const row = layout.rows[layout.rowOf[i]!]!;
      if (row.height <= 100 || row.height >= 320) continue;
      expect(Math.abs(layout.width[i]! - aspects[i]! * row.height)).toBeLessThan(1.5 + aspects[i]! * 0.5);
    }
  });

  it('caps a panorama alone in its row: the minimum height, the width filled, the photo cropped', () => {
    const layout = run([1.5, 1.5, 30, 1.5], { width: 1000, targetHeight: 200, gap: 4 });
    const panorama = layout.rows[layout.rowOf[2]!]!;
    expect(panorama.count).toBe(1);
    expect(panorama.height).toBe(100);
    expect(layout.width[2]).toBe(1000);
    // The two photos before it would stand 332 px high alone: capped at 1.6 times the target, still filling.
    const first = layout.rows[0]!;
    expect(first.count).toBe(2);
    expect(first.height).toBe(320);
    expect(edges(layout, 0).right).toBe(1000);
    // A tall sliver is widened to a quarter of its height rather than vanishing.
    const sliver = run([0.01], { width: 1000, targetHeight: 200, gap: 4 });
    expect(sliver.width[0]).toBe(50);
  });

  it('gives photos without a size a square', () => {
    const layout = run([0, Number.NaN, 0], { width: 1000, targetHeight: 200, gap: 4 });
    expect(layout.rows).toHaveLength(1);
    expect([...layout.width]).toEqual([200, 200, 200]);
  });

  it('lays out nothing for no photos, and stays sane at a width smaller than a photo', () => {
    const empty = run([]);
    expect(empty.rows).toEqual([]);
    expect(empty.height).toBe(0);
    expect(layoutGrid([], [], { ...base, headerHeight: 40, sectionGap: 16 }).height).toBe(0);
    const narrow = run([1.5, 1.5, 1.5], { width: 120, targetHeight: 200, gap: 4 });
    expect(narrow.rows).toHaveLength(3);
    for (let r = 0; r < 2; r++) expect(edges(narrow, r).right).toBe(120);
  });

  it('puts each section under its heading, each ending with its own left-aligned row', () => {
    const aspects = roll(300, 3);
    const sections = [
      { start: 0, count: 100 },
      { start: 100, count: 3 },
      { start: 103, count: 197 },
    ];
    const layout = layoutGrid(aspects, sections, { ...base, headerHeight: 40, sectionGap: 16 });
    expect(layout.headers.map((h) => h.section)).toEqual([0, 1, 2]);
    expect(layout.headers[0]!.top).toBe(0);
    sections.forEach((section, s) => {
      const firstRow = layout.rows[layout.rowOf[section.start]!]!;
      const lastRow = layout.rows[layout.rowOf[section.start + section.count - 1]!]!;
      expect(firstRow.start).toBe(section.start);
      expect(firstRow.top).toBe(layout.headers[s]!.top + 40);
      expect(lastRow.start + lastRow.count).toBe(section.start + section.count);
      expect(lastRow.full).toBe(false);
      if (s > 0) {
        const before = layout.rows[layout.rowOf[section.start - 1]!]!;
        expect(layout.headers[s]!.top).toBe(before.top + before.height + 16);
      }
    });
  });

  it('finds the rows in view and the photo nearest a position in a row', () => {
    const layout = run(roll(1000, 5));
    const { rows } = layout;
    expect(rowAt(rows, 0)).toBe(0);
    expect(rowAt(rows, rows[3]!.top + 1)).toBe(3);
    // In the gap between two rows: the row below.
    expect(rowAt(rows, rows[3]!.top - 2)).toBe(3);
    expect(rowAt(rows, layout.height + 10)).toBe(rows.length);
    expect(rowsBetween(rows, rows[5]!.top, rows[8]!.top)).toEqual([5, 7]);
    expect(rowsBetween(rows, layout.height + 1, layout.height + 100)).toBeNull();
    const row = rows[10]!;
    const third = row.start + 2;
    const middle = layout.left[third]! + layout.width[third]! / 2;
    expect(nearestInRow(layout, 10, middle)).toBe(third);
    expect(nearestInRow(layout, 10, -50)).toBe(row.start);
    expect(nearestInRow(layout, 10, 99_999)).toBe(row.start + row.count - 1);
  });

  it('writes into the arrays it is given, from any start (a section of a larger grid)', () => {
    const out = { rows: [], left: new Float64Array(10), width: new Float64Array(10), rowOf: new Int32Array(10) };
    const bottom = justify([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { width: 500, targetHeight: 100, gap: 0 }, out, 5, 10, 50);
    expect(out.rows).toEqual([{ start: 5, count: 5, top: 50, height: 100, full: true }]);
    expect(bottom).toBe(150);
    expect([...out.left.subarray(5)]).toEqual([0, 100, 200, 300, 400]);
  });
});
