import type { Migration } from './migration.js';

/**
 * The corner views of photos, for the "find cropped copies" setting (search/crop-views.ts): one row per photo and
 * model with the four views' vectors, each quantised to signed bytes (only their direction counts: cosine), made
 * with views keeping `fraction` of each side. Photos without a row have no views (the setting was off, or they
 * could not be made).
 */
export const cropViews: Migration = {
  version: 50,
  name: 'crop-views',
  up(db) {
    db.exec(`
      CREATE TABLE view_vectors (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        fraction REAL NOT NULL,
        vectors BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      );
      CREATE INDEX view_vectors_model ON view_vectors(model_id);
    `);
  },
};
