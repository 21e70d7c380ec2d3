// Opens a library database: its file kept private, the connection configured (WAL, busy timeout), the schema migrated.
//
// Who writes, and how they stay out of each other's way:
// - Every Store.open is a connection of its own. In one process there are two writers: the main thread's Store
//   (the service: the model row at open, folders and their flags, settings, "not a duplicate" answers, the
//   verifier's verdicts, encoded views, the duplicate scan's kept groups, the trash journal and the photos it
//   removes) and the indexing worker's (indexer/worker.ts running indexFolders: photos, vectors, corner and turned
//   views, scan errors, folder status). Triggers (migrations 0040, 0110) write the search change log and the
//   library's generation inside whichever transaction changed their tables. Other processes (the CLI, `doppel
//   serve`, the app) may hold connections to the same file too. An in-memory library, or a process whose worker
//   did not start, indexes on the main thread's connection: one writer.
// - A file library is in WAL mode: readers never block the writer nor wait for it, and a transaction reads one
//   snapshot (as of its first read), so a query on the main thread sees a worker's batch whole or not at all.
//   SQLite lets one connection write at a time; a write that finds another one writing waits for it (busy_timeout,
//   5 s), then fails with SQLITE_BUSY.
// - The worker writes each batch in one transaction (Store.transaction), so a batch is committed whole or not at
//   all, and holds the write lock for as long as that batch takes to write, never for a whole run.
// - Store.transaction is better-sqlite3's (BEGIN DEFERRED). The busy timeout covers a statement outside a
//   transaction and a transaction whose first statement writes; a deferred transaction that reads before its first
//   write would get SQLITE_BUSY at once, without waiting, when another connection commits in between (SQLite cannot
//   move its snapshot). So the ones that do (ensureModel, removeFolder) take the write lock first (BEGIN IMMEDIATE,
//   handles.ts inWriteTransaction), as migrations do.
// - In one process the service makes trash and undo wait for an indexing run to end, so the worker never writes
//   back a photo on its way to the trash. Across processes only trash and undo are serialised with each other (the
//   action lock, duplicates/action-lock.ts); everything else relies on the transactions above.
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
