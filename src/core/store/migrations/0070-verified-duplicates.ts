import type { Migration } from './migration.js';

/**
 * Verified duplicates:
 * - turn_vectors: each photo's vectors of its picture turned by 90 and 180 degrees (search/turn-views.ts), so a
 *   rotated copy (in pixels, or by its EXIF orientation alone) finds its original; two 8-bit vectors per row.
 * - pair_verdicts: what the duplicate verifier (duplicates/verify.ts) measured for a pair of contents, by content
 *   hash (hash_a < hash_b) and verifier version, so that a later scan compares only pairs it has not seen.
 */
export const verifiedDuplicates: Migration = {
  version: 70,
  name: 'verified-duplicates',
  up(db) {
    db.exec(`
      CREATE TABLE turn_vectors (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vectors BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
      );
      CREATE INDEX turn_vectors_model ON turn_vectors(model_id);
      CREATE TABLE pair_verdicts (
        hash_a TEXT NOT NULL,
        hash_b TEXT NOT NULL,
        version INTEGER NOT NULL,
        measure TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (hash_a, hash_b),
        CHECK (hash_a < hash_b)
      );
    `);
  },
};
