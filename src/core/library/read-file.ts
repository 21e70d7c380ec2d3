// Reading a photo of the library safely: the file is opened once, without blocking on a FIFO or device and without
// following a link the caller did not ask to follow; the descriptor's own fstat must show a regular file (and, when
// the caller checked one before, the same file); every step has a time limit, so a file that never answers (a FIFO
// swapped in after the scan, a hung network mount) is reported and skipped instead of holding up the run.
import fs from 'node:fs';
import { DoppelError } from '../../shared/api.js';

/** How long a file may take to open and to be read whole before it is given up on. */
export const READ_TIMEOUT_MS = 30_000;

export interface OpenOptions {
  /** Open through a symbolic link at the path's last component (default false: a link there is refused). */
  followSymlinks?: boolean;
  /** The file must be this one (device and inode, as a stat made before saw it). */
  expect?: { dev: number; ino: number };
  timeoutMs?: number;
}

/** Thrown for a file that is not what a photo can be read from: its message is the reason shown to the user. */
export class UnreadableFile extends DoppelError {
  constructor(message: string) {
    super('io', message);
  }
}

/** Resolves with `work`, or rejects with `message` after `ms` (and hands whatever `work` yields late to `late`). */
function withTimeout<T>(work: Promise<T>, ms: number, message: string, late: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new UnreadableFile(message));
    }, ms);
  });
  work.then(
    (value) => {
      if (timedOut) late(value);
    },
    () => undefined,
  );
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * Opens `file` for reading as a regular file. O_NONBLOCK keeps the open of a FIFO or device from waiting for a
 * writer (it has no effect on a regular file's reads); O_NOFOLLOW refuses a link unless `followSymlinks`.
 */
export async function openRegularFile(file: string, opts: OpenOptions = {}): Promise<fs.promises.FileHandle> {
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS;
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.followSymlinks ? 0 : fs.constants.O_NOFOLLOW);
  const close = (h: fs.promises.FileHandle) => void h.close().catch(() => undefined);
  const opening = fs.promises.open(file, flags).catch((err: NodeJS.ErrnoException) => {
    if (err?.code === 'ELOOP' && !opts.followSymlinks)
      throw new UnreadableFile('Is a symbolic link, and links are not followed here');
    throw err;
  });
  const handle = await withTimeout(opening, ms, `Did not open within ${ms / 1000} s`, close);
  try {
    const st = await withTimeout(handle.stat(), ms, `Did not answer within ${ms / 1000} s`, () => undefined);
    if (!st.isFile()) throw new UnreadableFile(`Is ${kindOf(st)}, not a photo file`);
    if (opts.expect && (st.dev !== opts.expect.dev || st.ino !== opts.expect.ino))
      throw new UnreadableFile('Changed while it was being opened');
    return handle;
  } catch (err) {
    close(handle);
    throw err;
  }
}

/** Reads a regular file whole through openRegularFile, within the time limit. */
export async function readRegularFile(file: string, opts: OpenOptions = {}): Promise<Buffer> {
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS;
  const handle = await openRegularFile(file, opts);
  const abort = new AbortController();
  try {
    return await withTimeout(
      handle.readFile({ signal: abort.signal }),
      ms,
      `Did not answer within ${ms / 1000} s`,
      () => undefined,
    );
  } catch (err) {
    abort.abort();
    throw err;
  } finally {
    void handle.close().catch(() => undefined);
  }
}
