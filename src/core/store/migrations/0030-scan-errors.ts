import type { Migration } from './migration.js';

/**
 * Problems found while scanning a folder that are not one photo's (an unreadable sub-folder, a name that cannot
 * be opened): kept per folder and replaced by each scan, so `doppel info --errors` lists them with the photos
 * that could not be indexed.
 */
export const scanErrors: Migration = {
  version: 30,
  name: 'scan-errors',
  up(db) {
    db.exec(`
      CREATE TABLE scan_errors (
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (folder_id, path)
      );
    `);
  },
};
