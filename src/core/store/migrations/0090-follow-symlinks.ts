import type { Migration } from './migration.js';

/**
 * Following symbolic links becomes a saved setting of each folder (off by default, as every scan was before):
 * every scan of the folder (`doppel index`, the watcher, the app) follows its links or passes over them, so a
 * run that was not told does not drop the photos reached through them. A link moved to the trash is logged with
 * its target (action_files.link_target): the link is what moves, and the journal recognises it by that target,
 * not by hashing whatever the link leads to from inside the trash.
 */
export const followSymlinks: Migration = {
  version: 90,
  name: 'follow-symlinks',
  up(db) {
    db.exec(`
      ALTER TABLE folders ADD COLUMN follow_symlinks INTEGER NOT NULL DEFAULT 0 CHECK (follow_symlinks IN (0, 1));
      ALTER TABLE action_files ADD COLUMN link_target TEXT;
    `);
  },
};
