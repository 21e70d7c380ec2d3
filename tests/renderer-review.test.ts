// The Duplicates view's order, summary and shortened paths (src/renderer/lib/duplicate-review.ts).
import { describe, expect, it } from 'vitest';
import type { DuplicateGroup, DuplicateKind } from '../src/shared/api.js';
import { middleEllipsis, reviewSummary, sortGroups, spaceToFree } from '../src/renderer/lib/duplicate-review.js';

let nextId = 1;
function group(kind: DuplicateKind, keeper: string, others: { path: string; size: number }[]): DuplicateGroup {
  const member = (path: string, size: number, keep: boolean) => ({
    path,
    photoId: nextId++,
    score: 1,
    keep,
    referenceFolder: false,
    size,
    width: 10,
    height: 10,
    format: 'jpeg',
    edits: [],
  });
  return {
    kind,
    reference: keeper,
    keeper,
    members: [member(keeper, 5_000, true), ...others.map((o) => member(o.path, o.size, false))],
  };
}

describe('the duplicate review', () => {
  const small = group('exact', '/b/one.jpg', [{ path: '/c/one.jpg', size: 1_000 }]);
  const big = group('near', '/a/two.jpg', [
    { path: '/c/two-1.jpg', size: 3_000 },
    { path: '/c/two-2.jpg', size: 4_000 },
  ]);
  const alike = group('similar', '/c/three.jpg', [{ path: '/c/four.jpg', size: 9_000 }]);

  it('frees the size of the photos not kept, and nothing for look-alikes', () => {
    expect(spaceToFree(small)).toBe(1_000);
    expect(spaceToFree(big)).toBe(7_000);
    expect(spaceToFree(alike)).toBe(0);
  });

  it('sorts by space to free, photos in the group, the kept photo folder, or as found', () => {
    const groups = [small, alike, big];
    const keepers = (order: Parameters<typeof sortGroups>[1]) => sortGroups(groups, order).map((g) => g.keeper);
    expect(keepers('space')).toEqual(['/a/two.jpg', '/b/one.jpg', '/c/three.jpg']);
    expect(keepers('size')).toEqual(['/a/two.jpg', '/b/one.jpg', '/c/three.jpg']);
    expect(keepers('folder')).toEqual(['/a/two.jpg', '/b/one.jpg', '/c/three.jpg']);
    expect(keepers('found')).toEqual(['/b/one.jpg', '/c/three.jpg', '/a/two.jpg']);
    expect(groups.map((g) => g.keeper)).toEqual(['/b/one.jpg', '/c/three.jpg', '/a/two.jpg']);
  });

  it('sums each suggested photo once, and never a look-alike', () => {
    const twice = { ...small, reference: 'x' };
    expect(reviewSummary([small, twice, big, alike])).toEqual({ groups: 4, freeable: 8_000 });
  });

  it('shortens a path in the middle, keeping its start and more of its end', () => {
    expect(middleEllipsis('/home/me/Pictures', 40)).toBe('/home/me/Pictures');
    const long = '/home/me/Pictures/2019/holidays/italy/rome/day-3/edited';
    const short = middleEllipsis(long, 30);
    expect([...short]).toHaveLength(30);
    expect(short.startsWith('/home/me/')).toBe(true);
    expect(short.endsWith('rome/day-3/edited')).toBe(true);
    expect(short).toContain('…');
  });
});
