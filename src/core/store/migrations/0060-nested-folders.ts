import { sqlInside } from '../sql.js';
import type { Migration } from './migration.js';

/**
 * A folder added inside another one is a root of its own, and a photo belongs to the deepest folder it is inside.
 * Before, each photo belonged to whichever of two nested folders scanned it last (so a reference folder inside
 * another folder lost its photos on every scan of the outer one): every photo and scan error moves to its deepest
 * folder. No table changes.
 */
export const nestedFolders: Migration = {
  version: 60,
  name: 'nested-folders',
  up(db) {
    for (const table of ['photos', 'scan_errors']) {
      const deepest = `(SELECT f.id FROM folders f WHERE ${sqlInside(`${table}.path`, 'f.path')}
                        ORDER BY length(f.path) DESC LIMIT 1)`;
      db.exec(`
        UPDATE OR REPLACE ${table} SET folder_id = ${deepest}
        WHERE ${deepest} IS NOT NULL AND folder_id != ${deepest};
      `);
    }
  },
};
