// Branded handles on a library connection (what may read, what may write) and statements prepared once per connection.
import type { Database, Statement } from 'better-sqlite3';

declare const readBrand: unique symbol;
declare const writeBrand: unique symbol;

/**
 * A connection that a function only reads through. The domain files (folders.ts, photos.ts, ...) take one as their
 * first argument when they run no statement that writes; the brand is a type only, the value is the Database.
 */
export type ReadDb = Database & { readonly [readBrand]: true };

/** A connection that a function may write through (and read: a WriteDb is a ReadDb). */
export type WriteDb = ReadDb & { readonly [writeBrand]: true };

/** Brands a connection for reading only. */
export const asReadDb = (db: Database): ReadDb => db as ReadDb;

/** Brands a connection for reading and writing. */
export const asWriteDb = (db: Database): WriteDb => db as WriteDb;

/** What a statement returns: row objects, the first column only (pluck), or rows as arrays (raw). */
export type RowShape = 'object' | 'pluck' | 'raw';

function cachedStatement(sql: string, shape: RowShape): (db: Database) => Statement {
  const byDb = new WeakMap<Database, Statement>();
  return (db) => {
    let stmt = byDb.get(db);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (shape === 'pluck') stmt.pluck();
      else if (shape === 'raw') stmt.raw();
      byDb.set(db, stmt);
    }
    return stmt;
  };
}

/**
 * A statement that only reads, prepared on a connection the first time it runs there and kept for as long as the
 * connection lives (one WeakMap lookup a call). Define it once, at module level: `const byId = reads('...')`, then
 * `byId(db).get(id)`.
 */
export function reads(sql: string, shape: RowShape = 'object'): (db: ReadDb) => Statement {
  return cachedStatement(sql, shape);
}

/** A statement that writes, prepared once per connection as `reads`; it needs a WriteDb. */
export function writes(sql: string, shape: RowShape = 'object'): (db: WriteDb) => Statement {
  return cachedStatement(sql, shape);
}

/** Runs fn in one transaction (BEGIN DEFERRED; nested calls become savepoints), as better-sqlite3's transaction(). */
export function inTransaction<T>(db: ReadDb, fn: () => T): T {
  return db.transaction(fn)();
}

/**
 * Runs fn in one transaction that takes the write lock first (BEGIN IMMEDIATE): for a transaction that reads
 * before it writes, which under BEGIN DEFERRED would fail at once with SQLITE_BUSY when another connection commits
 * in between, instead of waiting its turn (busy_timeout) as it does here.
 */
export function inWriteTransaction<T>(db: WriteDb, fn: () => T): T {
  return db.transaction(fn).immediate();
}
