import type { Migration } from './migration.js';

/**
 * The corner views the duplicate scan's second stage encodes from crops of a photo's cached thumbnail
 * (duplicates/encoded-views.ts), kept with the content hash they were made from: a later scan, in this
 * process or the next `doppel dupes`, reads them instead of decoding and encoding the photo again, and spends its
 * budget on photos it has not encoded yet. Quantised to signed bytes as view_vectors are (only their direction
 * counts). A row whose hash is not the photo's any more is stale and is made again.
 */
export const encodedViews: Migration = {
  version: 100,
  name: 'encoded-views',
  up(db) {
    db.exec(`
      CREATE TABLE encoded_views (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        fraction REAL NOT NULL,
        hash TEXT NOT NULL,
        vectors BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      );
      CREATE INDEX encoded_views_model ON encoded_views(model_id);
    `);
  },
};
