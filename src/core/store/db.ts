import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { DoppelError } from '../../shared/api.js';
import { restrictToOwner } from '../paths.js';
import { migrate } from './migrations/index.js';

export type { Database };

/**
 * Makes a library database readable by its owner only: its folder is created 0700, the file 0600 (SQLite gives
 * its -wal and -shm files the database's mode), and a library made before with looser modes is tightened. The
 * library holds every photo's path, and its thumbnails show the photos.
 */
function keepPrivate(file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  restrictToOwner([file, `${file}-wal`, `${file}-shm`], 0o600);
}

/** Opens (creating if needed) a library database, configures the connection and migrates it. */
export function openDatabase(file: string): Database {
  const memory = file === ':memory:' || file === '';
  if (!memory) keepPrivate(file);
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
