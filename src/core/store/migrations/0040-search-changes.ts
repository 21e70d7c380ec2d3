import type { Migration } from './migration.js';

/**
 * What the search layer needs to trust a snapshot of its index kept beside the database: per model, a token
 * that names this database (a snapshot of another library never matches it) and a generation that every change
 * to the model's vectors, or to a photo's status, moves on; per photo, the generation of its last change, so a
 * snapshot a little behind is brought up to date by re-reading only the photos changed since. Kept by
 * triggers, so every writer (any connection, any thread or process) keeps it.
 */
export const searchChanges: Migration = {
  version: 40,
  name: 'search-changes',
  up(db) {
    db.exec(`
      CREATE TABLE search_state (
        model_id INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
        token TEXT NOT NULL,
        generation INTEGER NOT NULL
      );
      CREATE TABLE vector_changes (
        model_id INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        generation INTEGER NOT NULL,
        PRIMARY KEY (model_id, photo_id)
      ) WITHOUT ROWID;
      CREATE INDEX vector_changes_generation ON vector_changes(model_id, generation);

      INSERT INTO search_state (model_id, token, generation) SELECT id, lower(hex(randomblob(16))), 1 FROM models;
      CREATE TRIGGER search_state_model AFTER INSERT ON models BEGIN
        INSERT INTO search_state (model_id, token, generation) VALUES (NEW.id, lower(hex(randomblob(16))), 1);
      END;

      CREATE TRIGGER vector_changes_insert AFTER INSERT ON vectors BEGIN
        UPDATE search_state SET generation = generation + 1 WHERE model_id = NEW.model_id;
        INSERT INTO vector_changes (model_id, photo_id, generation)
          VALUES (NEW.model_id, NEW.photo_id, (SELECT generation FROM search_state WHERE model_id = NEW.model_id))
          ON CONFLICT (model_id, photo_id) DO UPDATE SET generation = excluded.generation;
      END;
      CREATE TRIGGER vector_changes_update AFTER UPDATE ON vectors BEGIN
        UPDATE search_state SET generation = generation + 1 WHERE model_id IN (OLD.model_id, NEW.model_id);
        INSERT INTO vector_changes (model_id, photo_id, generation)
          SELECT model_id, photo_id, (SELECT generation FROM search_state s WHERE s.model_id = c.model_id)
          FROM (SELECT OLD.model_id AS model_id, OLD.photo_id AS photo_id
                UNION SELECT NEW.model_id, NEW.photo_id) c
          WHERE true
          ON CONFLICT (model_id, photo_id) DO UPDATE SET generation = excluded.generation;
      END;
      CREATE TRIGGER vector_changes_delete AFTER DELETE ON vectors BEGIN
        UPDATE search_state SET generation = generation + 1 WHERE model_id = OLD.model_id;
        INSERT INTO vector_changes (model_id, photo_id, generation)
          VALUES (OLD.model_id, OLD.photo_id, (SELECT generation FROM search_state WHERE model_id = OLD.model_id))
          ON CONFLICT (model_id, photo_id) DO UPDATE SET generation = excluded.generation;
      END;
      -- The index holds the vectors of indexed photos only.
      CREATE TRIGGER vector_changes_photo_status AFTER UPDATE OF status ON photos
      WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE search_state SET generation = generation + 1
          WHERE model_id IN (SELECT model_id FROM vectors WHERE photo_id = NEW.id);
        INSERT INTO vector_changes (model_id, photo_id, generation)
          SELECT v.model_id, v.photo_id, s.generation
          FROM vectors v JOIN search_state s ON s.model_id = v.model_id WHERE v.photo_id = NEW.id
          ON CONFLICT (model_id, photo_id) DO UPDATE SET generation = excluded.generation;
      END;
    `);
  },
};
