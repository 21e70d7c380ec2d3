import type { Database } from 'better-sqlite3';
import { DoppelError } from '../../../shared/api.js';
import { initial } from './0010-initial.js';
import { duplicates } from './0020-duplicates.js';
import { scanErrors } from './0030-scan-errors.js';
import { searchChanges } from './0040-search-changes.js';
import { cropViews } from './0050-crop-views.js';
import { nestedFolders } from './0060-nested-folders.js';
import { verifiedDuplicates } from './0070-verified-duplicates.js';
import { trashJournal } from './0080-trash-journal.js';
import { followSymlinks } from './0090-follow-symlinks.js';
import { encodedViews } from './0100-encoded-views.js';
import { duplicateScans } from './0110-duplicate-scans.js';

import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, oldest first. Never edit one that has shipped: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  duplicates,
  scanErrors,
  searchChanges,
  cropViews,
  nestedFolders,
  verifiedDuplicates,
  trashJournal,
  followSymlinks,
  encodedViews,
  duplicateScans,
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the schema up to date, one transaction per migration. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = schemaVersion(db);
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (current > latest) {
    throw new DoppelError(
      'database',
      `This library was created by a newer version of Doppel (schema ${current}); ` +
        `this version understands schema ${latest} at most. Update Doppel or use a different library file.`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    // IMMEDIATE takes the write lock first; the version is read again under it, so that two processes opening
    // a new library at once apply each migration once (the second waits, then finds it done).
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      m.up(db);
      // PRAGMA takes no bound parameters; version is a number we own.
      db.pragma(`user_version = ${Math.trunc(m.version)}`);
    }).immediate();
  }
}
