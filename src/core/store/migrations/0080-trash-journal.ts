import type { Migration } from './migration.js';

/**
 * The action log becomes a journal (duplicates/journal.ts): a file's row is written before the file moves, in
 * state 'moving', and becomes 'trashed' (with where the trash put it) in the transaction that removes the photo
 * from the library. A process killed in between leaves a 'moving' row that the next trash or undo settles by
 * looking at the file's place and the trash. created_at tells trash entries made since the row from older ones.
 */
export const trashJournal: Migration = {
  version: 80,
  name: 'trash-journal',
  up(db) {
    db.exec(`
      ALTER TABLE action_files ADD COLUMN state TEXT NOT NULL DEFAULT 'trashed' CHECK (state IN ('moving', 'trashed'));
      ALTER TABLE action_files ADD COLUMN created_at INTEGER;
      UPDATE action_files SET created_at = (SELECT created_at FROM actions WHERE actions.id = action_files.action_id);
      CREATE INDEX action_files_moving ON action_files(state) WHERE state = 'moving';
    `);
  },
};
