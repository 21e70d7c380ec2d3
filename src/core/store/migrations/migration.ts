// What a migration is, apart from the list of them (index.ts), which imports every migration.
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** Becomes PRAGMA user_version once applied; numbered in steps of 10. */
  version: number;
  name: string;
  up(db: Database): void;
}
