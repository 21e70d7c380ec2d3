import type { Migration } from './migration.js';

/**
 * A duplicate scan's groups kept for the library as it was: `library_state.generation` moves on with every change a
 * scan's result depends on (photos and their file facts, folders, vectors, corner and turned views, "not a
 * duplicate" marks, settings), kept by triggers so every writer keeps it. A scan of an unchanged library reads its
 * groups from `duplicate_scans` (one row per query: tiers, thresholds, keeper rules, model) instead of searching
 * and verifying again. What a scan caches for itself (verdicts, encoded views) does not move it on.
 */
export const duplicateScans: Migration = {
  version: 110,
  name: 'duplicate-scans',
  up(db) {
    const bump = 'UPDATE library_state SET generation = generation + 1 WHERE id = 1;';
    // The photo columns a scan reads; indexed_at, error, dev and ino change on runs that change nothing it shows.
    const photoChanged = ['folder_id', 'path', 'size', 'mtime_ms', 'hash', 'width', 'height', 'format', 'taken_at']
      .concat(['orientation', 'status'])
      .map((c) => `OLD.${c} IS NOT NEW.${c}`)
      .join(' OR ');
    const folderChanged = ['path', 'status', 'reference', 'follow_symlinks']
      .map((c) => `OLD.${c} IS NOT NEW.${c}`)
      .join(' OR ');
    const triggers = [
      ...[
        'photos',
        'folders',
        'vectors',
        'view_vectors',
        'turn_vectors',
        'not_duplicates',
        'settings',
        'models',
      ].flatMap((table) => [
        `CREATE TRIGGER library_state_${table}_insert AFTER INSERT ON ${table} BEGIN ${bump} END;`,
        `CREATE TRIGGER library_state_${table}_delete AFTER DELETE ON ${table} BEGIN ${bump} END;`,
      ]),
      `CREATE TRIGGER library_state_photos_update AFTER UPDATE ON photos WHEN ${photoChanged} BEGIN ${bump} END;`,
      `CREATE TRIGGER library_state_folders_update AFTER UPDATE ON folders WHEN ${folderChanged} BEGIN ${bump} END;`,
      `CREATE TRIGGER library_state_settings_update AFTER UPDATE ON settings WHEN OLD.value IS NOT NEW.value BEGIN ${bump} END;`,
      ...['vectors', 'view_vectors', 'turn_vectors', 'models'].map(
        (table) => `CREATE TRIGGER library_state_${table}_update AFTER UPDATE ON ${table} BEGIN ${bump} END;`,
      ),
    ];
    db.exec(`
      CREATE TABLE library_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generation INTEGER NOT NULL
      );
      INSERT INTO library_state (id, generation) VALUES (1, 1);
      CREATE TABLE duplicate_scans (
        query TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        groups TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      ${triggers.join('\n')}
    `);
  },
};
