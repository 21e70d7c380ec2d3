import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { DoppelError } from '../../shared/api.js';
import { migrate } from './migrations/index.js';

export type { Database };

/** Opens (creating if needed) a library database, configures the connection and migrates it. */
export function openDatabase(file: string): Database {
  const memory = file === ':memory:' || file === '';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Database;
  try {
    // The Electron main process runs with another ABI than Node and points at its own build.
    const nativeBinding = process.env.DOPPEL_SQLITE_BINDING;
    db = new BetterSqlite3(file, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw new DoppelError('database', `Cannot open the library database ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // With WAL, NORMAL is durable across application crashes and much faster than FULL.
    db.pragma('synchronous = NORMAL');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof DoppelError) throw err;
    throw new DoppelError('database', `Cannot prepare the library database ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
