// A lock across processes that the kernel drops when its holder dies: SQLite's exclusive lock on a small file of
// its own (an open `BEGIN EXCLUSIVE` transaction that writes nothing), taken with POSIX advisory locks. Used by
// duplicates/action-lock.ts.
import BetterSqlite3 from 'better-sqlite3';
import { restrictToOwner } from '../paths.js';

/** Tries once to take the lock on `file`; returns its release, or null while another holder has it. */
export function tryExclusiveLock(file: string): (() => void) | null {
  const nativeBinding = process.env.DOPPEL_SQLITE_BINDING;
  const db = new BetterSqlite3(file, nativeBinding ? { nativeBinding } : {});
  restrictToOwner([file], 0o600);
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    const code = (err as { code?: string } | null)?.code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return null;
    throw err;
  }
  return () => {
    db.exec('ROLLBACK');
    db.close();
  };
}
