// What migration 0110 keeps for the duplicate scan: the library's generation (moved on by triggers with every change
// a scan's groups depend on) and each query's last complete groups at the generation they were found at.
import type { Database, Statement } from 'better-sqlite3';

/** How many queries' groups are kept (tiers and thresholds a user switches between). */
const KEPT_QUERIES = 8;

export class DuplicateScans {
  private readonly generationStmt: Statement;
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;
  private readonly pruneStmt: Statement;

  constructor(db: Database) {
    this.generationStmt = db.prepare('SELECT generation FROM library_state WHERE id = 1').pluck();
    this.getStmt = db.prepare('SELECT groups FROM duplicate_scans WHERE query = ? AND generation = ?').pluck();
    this.putStmt = db.prepare(
      'INSERT OR REPLACE INTO duplicate_scans (query, generation, groups, created_at) VALUES (?, ?, ?, ?)',
    );
    this.pruneStmt = db.prepare(`
      DELETE FROM duplicate_scans WHERE generation < ? OR query NOT IN
        (SELECT query FROM duplicate_scans ORDER BY created_at DESC, rowid DESC LIMIT ${KEPT_QUERIES})`);
  }

  /** Moves on with every change a duplicate scan's groups depend on. */
  generation(): number {
    return this.generationStmt.get() as number;
  }

  /** The groups (as stored, JSON) a complete scan of `query` found at `generation`, or null. */
  get(query: string, generation: number): string | null {
    return (this.getStmt.get(query, generation) as string | undefined) ?? null;
  }

  /**
   * Keeps the groups a complete scan of `query` found at `generation` (read before the scan began: a change during
   * the scan moves the library past it, and the groups are never read). Groups of older generations go.
   */
  put(query: string, generation: number, groups: string): void {
    this.putStmt.run(query, generation, groups, Date.now());
    this.pruneStmt.run(generation);
  }
}
