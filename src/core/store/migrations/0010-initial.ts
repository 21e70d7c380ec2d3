import type { Migration } from './migration.js';

export const initial: Migration = {
  version: 10,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline'))
      );

      CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        dev INTEGER,
        ino INTEGER,
        hash TEXT,
        width INTEGER,
        height INTEGER,
        format TEXT,
        taken_at TEXT,
        orientation INTEGER,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'error', 'missing')),
        error TEXT,
        indexed_at INTEGER NOT NULL
      );
      CREATE INDEX photos_hash ON photos(hash);
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_status ON photos(status);

      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL,
        input_size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );

      -- vector holds the bytes of a Float32Array (platform byte order, little-endian everywhere we ship).
      CREATE TABLE vectors (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      );
      -- Cascading deletes from models look vectors up by model_id.
      CREATE INDEX vectors_model ON vectors(model_id);

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `);
  },
};
