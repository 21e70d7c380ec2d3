// Reads of what migration 0040 keeps for the search layer: each model's library token and generation, and the
// photos whose vectors changed since a generation (src/core/search/library-search.ts).
import type { Statement } from 'better-sqlite3';
import type { ReadDb } from './handles.js';
import { blobToVector } from './vectors.js';

export interface SearchState {
  /** Names this database for the model: a snapshot of another library carries another token. */
  token: string;
  /** Moves on with every change to the model's vectors or to a photo's status. */
  generation: number;
}

export interface VectorChange {
  photoId: number;
  /** The vector now, null when the photo has none or is not indexed (it leaves the index). */
  vector: Float32Array | null;
}

export class SearchChanges {
  private readonly stateStmt: Statement;
  private readonly changesStmt: Statement;

  constructor(
    db: ReadDb,
    private readonly modelId: number,
  ) {
    this.stateStmt = db.prepare('SELECT token, generation FROM search_state WHERE model_id = ?');
    this.changesStmt = db.prepare(`
      SELECT c.photo_id AS id, v.vector AS vector, p.status AS status FROM vector_changes c
      LEFT JOIN vectors v ON v.photo_id = c.photo_id AND v.model_id = c.model_id
      LEFT JOIN photos p ON p.id = c.photo_id
      WHERE c.model_id = ? AND c.generation > ?`);
  }

  state(): SearchState {
    const row = this.stateStmt.get(this.modelId) as SearchState | undefined;
    if (!row) throw new Error(`No search state for model ${this.modelId}`);
    return row;
  }

  /** Every photo changed after `generation`, with its vector now. */
  since(generation: number): VectorChange[] {
    const rows = this.changesStmt.all(this.modelId, generation) as {
      id: number;
      vector: Buffer | null;
      status: string | null;
    }[];
    return rows.map(({ id, vector, status }) => ({
      photoId: id,
      vector: vector && status === 'indexed' ? blobToVector(vector) : null,
    }));
  }
}
