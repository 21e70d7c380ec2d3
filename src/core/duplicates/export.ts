// Duplicate groups as CSV (one row per member, RFC 4180) and JSON (an array of groups, or JSON Lines).
import type { DuplicateGroup, ExportFormat } from '../../shared/api.js';

export const CSV_COLUMNS = [
  'group',
  'kind',
  'reference',
  'keeper',
  'path',
  'photo_id',
  'score',
  'keep',
  'reference_folder',
  'size',
  'width',
  'height',
  'format',
  'edits',
] as const;

/** Quotes a field when it holds a comma, a quote or a line break (quotes doubled). */
function csvField(value: string | number | boolean | null): string {
  const s = value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header, then one row per member of each group; `group` numbers the groups from 1. Lines end in CRLF. */
export function groupsToCsv(groups: readonly DuplicateGroup[]): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  groups.forEach((g, i) => {
    for (const m of g.members) {
      rows.push(
        [
          i + 1,
          g.kind,
          g.reference,
          g.keeper,
          m.path,
          m.photoId,
          m.score,
          m.keep,
          m.referenceFolder,
          m.size,
          m.width,
          m.height,
          m.format,
          m.edits.join('; '),
        ]
          .map(csvField)
          .join(','),
      );
    }
  });
  return `${rows.join('\r\n')}\r\n`;
}

/** One JSON object per line per group. */
export function groupsToJsonLines(groups: readonly DuplicateGroup[]): string {
  return groups.map((g) => `${JSON.stringify(g)}\n`).join('');
}

export function exportGroups(groups: readonly DuplicateGroup[], format: ExportFormat): string {
  return format === 'csv' ? groupsToCsv(groups) : `${JSON.stringify(groups, null, 2)}\n`;
}
