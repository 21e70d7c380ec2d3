// One trash or undo at a time per library, across processes: the CLI, `doppel serve` and the desktop app can all
// act on one library. The lock is SQLite's own exclusive lock on a small file beside the library database (an
// open `BEGIN EXCLUSIVE` transaction that writes nothing). SQLite takes it with POSIX advisory locks, which the
// kernel drops when the holder exits, so a killed process never leaves the lock behind (a lock file with a pid or
// a heartbeat would have to guess when its holder is dead). Within a process, holders queue on a promise.
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import { tryExclusiveLock } from '../store/file-lock.js';

/** How long a trash or undo waits for another process's before giving up with a message. */
export const LOCK_WAIT_MS = 120_000;
/** How often a waiting process tries again. */
const RETRY_MS = 50;

/** Where the lock of a library database lives; null for an in-memory library (no other process can open it). */
export function lockFileFor(dbFile: string): string | null {
  return dbFile === '' || dbFile === ':memory:' ? null : `${path.resolve(dbFile)}-actions.lock`;
}

const queues = new Map<string, Promise<unknown>>();

async function acquire(file: string, waitMs: number): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const release = tryExclusiveLock(file);
    if (release) return release;
    if (Date.now() >= deadline) {
      throw new DoppelError(
        'io',
        `Another Doppel process has been moving files to the trash or undoing for ${Math.round(waitMs / 1000)} s; ` +
          'try again when it has finished',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/**
 * Runs `fn` holding the library's trash-and-undo lock (`lockFile` from lockFileFor; null: only this process's
 * queue). Waits for another holder up to `waitMs`, then fails with a message and changes nothing.
 */
export async function withActionLock<T>(
  lockFile: string | null,
  fn: () => Promise<T>,
  waitMs = LOCK_WAIT_MS,
): Promise<T> {
  const key = lockFile ?? ':memory:';
  const before = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = before.then(() => mine);
  queues.set(key, tail);
  try {
    await before;
    const release = lockFile ? await acquire(lockFile, waitMs) : null;
    try {
      return await fn();
    } finally {
      release?.();
    }
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
