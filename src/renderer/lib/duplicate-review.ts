// What the Duplicates view shows about its groups: the space each would free, their order, a summary, and paths
// shortened in the middle (the file name and the start of the path stay readable).
import type { DuplicateGroup } from '../../shared/api.js';

export type GroupOrder = 'space' | 'size' | 'folder' | 'found';

export const GROUP_ORDERS: { order: GroupOrder; label: string }[] = [
  { order: 'space', label: 'Space to free' },
  { order: 'size', label: 'Group size' },
  { order: 'folder', label: 'Folder' },
  { order: 'found', label: 'As found' },
];

/**
 * Bytes that moving the group's suggested photos (every member not kept) to the trash would free; 0 for a
 * look-alike group, of which nothing is suggested.
 */
export function spaceToFree(group: DuplicateGroup): number {
  if (group.kind === 'similar') return 0;
  return group.members.filter((m) => !m.keep).reduce((sum, m) => sum + m.size, 0);
}

/** The groups in `order` (a copy); ties keep the order the scan found them in. */
export function sortGroups(groups: readonly DuplicateGroup[], order: GroupOrder): DuplicateGroup[] {
  const found = groups.map((g, i) => ({ g, i }));
  const by: Record<GroupOrder, (a: DuplicateGroup, b: DuplicateGroup) => number> = {
    space: (a, b) => spaceToFree(b) - spaceToFree(a),
    size: (a, b) => b.members.length - a.members.length,
    folder: (a, b) => (a.keeper < b.keeper ? -1 : a.keeper > b.keeper ? 1 : 0),
    found: () => 0,
  };
  return found.sort((x, y) => by[order](x.g, y.g) || x.i - y.i).map((x) => x.g);
}

/** Groups shown and the bytes their suggested photos would free (each photo counted once). */
export function reviewSummary(groups: readonly DuplicateGroup[]): { groups: number; freeable: number } {
  const sizes = new Map<number, number>();
  for (const g of groups) {
    if (g.kind === 'similar') continue;
    for (const m of g.members) if (!m.keep) sizes.set(m.photoId, m.size);
  }
  return { groups: groups.length, freeable: [...sizes.values()].reduce((a, b) => a + b, 0) };
}

/** `text` cut to at most `max` characters by an ellipsis in the middle, keeping more of its end (the names). */
export function middleEllipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const keep = Math.max(2, max - 1);
  const head = Math.floor(keep / 3);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}
