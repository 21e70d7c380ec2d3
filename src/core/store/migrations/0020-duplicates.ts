import type { Migration } from './migration.js';

/**
 * The duplicate review: reference folders, remembered "not a duplicate" answers and the action log that undo
 * reads.
 */
export const duplicates: Migration = {
  version: 20,
  name: 'duplicates',
  up(db) {
    db.exec(`
      ALTER TABLE folders ADD COLUMN reference INTEGER NOT NULL DEFAULT 0 CHECK (reference IN (0, 1));

      -- "Not a duplicate" answers, by content hash so they survive moves, renames and re-indexing; a pair is
      -- stored once, hash_a <= hash_b (equal hashes: the user keeps those byte-identical copies on purpose).
      CREATE TABLE not_duplicates (
        hash_a TEXT NOT NULL,
        hash_b TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (hash_a, hash_b),
        CHECK (hash_a <= hash_b)
      ) WITHOUT ROWID;

      -- One row per user action on files (moving duplicates to the trash); undone_at is set once every file
      -- of the action is back.
      CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('trash')),
        trasher TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        undone_at INTEGER
      );
      CREATE INDEX actions_open ON actions(undone_at, id);

      -- Each file an action moved: where it was, what it was (hash, size) and where the trash put it, when the
      -- trash can tell (trash_path and info_path, a freedesktop .trashinfo file).
      CREATE TABLE action_files (
        id INTEGER PRIMARY KEY,
        action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
        folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
        path TEXT NOT NULL,
        hash TEXT,
        size INTEGER NOT NULL,
        trash_path TEXT,
        info_path TEXT,
        deleted_at TEXT,
        restored_at INTEGER
      );
      CREATE INDEX action_files_action ON action_files(action_id);
      -- Cascading deletes and SET NULL from folders look rows up by folder_id.
      CREATE INDEX action_files_folder ON action_files(folder_id);
    `);
  },
};
