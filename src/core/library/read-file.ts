// Reading a photo of the library safely: the file is opened once, without blocking on a FIFO or device and without
// following a link the caller did not ask to follow; the descriptor's own fstat must show a regular file (and, when
// the caller checked one before, the same file); every step has a time limit, so a file that never answers (a FIFO
// swapped in after the scan, a hung network mount) is reported and skipped instead of holding up the run.
import crypto from 'node:crypto';
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

/** A regular file opened by openRegularFileStat, and what its descriptor's fstat saw. */
export interface OpenedFile {
  handle: fs.promises.FileHandle;
  stat: fs.Stats;
}

/**
 * Opens `file` for reading as a regular file. O_NONBLOCK keeps the open of a FIFO or device from waiting for a
 * writer (it has no effect on a regular file's reads); O_NOFOLLOW refuses a link unless `followSymlinks`.
 */
export async function openRegularFile(file: string, opts: OpenOptions = {}): Promise<fs.promises.FileHandle> {
  return (await openRegularFileStat(file, opts)).handle;
}

/** openRegularFile, with the descriptor's fstat (its size is what the file holds now, not what a scan saw). */
export async function openRegularFileStat(file: string, opts: OpenOptions = {}): Promise<OpenedFile> {
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS;
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.followSymlinks ? 0 : fs.constants.O_NOFOLLOW);
  const opening = fs.promises.open(file, flags).catch((err: NodeJS.ErrnoException) => {
    if (err?.code === 'ELOOP' && !opts.followSymlinks)
      throw new UnreadableFile('Is a symbolic link, and links are not followed here');
    throw err;
  });
  const handle = await withTimeout(opening, ms, `Did not open within ${ms / 1000} s`, closeLater);
  try {
    const stat = await withTimeout(handle.stat(), ms, `Did not answer within ${ms / 1000} s`, () => undefined);
    if (!stat.isFile()) throw new UnreadableFile(`Is ${kindOf(stat)}, not a photo file`);
    if (opts.expect && (stat.dev !== opts.expect.dev || stat.ino !== opts.expect.ino))
      throw new UnreadableFile('Changed while it was being opened');
    return { handle, stat };
  } catch (err) {
    closeLater(handle);
    throw err;
  }
}

/**
 * Closes a handle without waiting: a read given up on may still be pending on it, and close waits for that.
 * (Once it completes, the descriptor is closed.)
 */
export function closeLater(handle: fs.promises.FileHandle): void {
  void handle.close().catch(() => undefined);
}

/** Reads an opened file whole, within the time limit (it is left open). */
export async function readOpenedFile(handle: fs.promises.FileHandle, timeoutMs = READ_TIMEOUT_MS): Promise<Buffer> {
  const abort = new AbortController();
  try {
    return await withTimeout(
      handle.readFile({ signal: abort.signal }),
      timeoutMs,
      `Did not answer within ${timeoutMs / 1000} s`,
      () => undefined,
    );
  } catch (err) {
    abort.abort();
    throw err;
  }
}

/** Reads a regular file whole through openRegularFile, within the time limit. */
export async function readRegularFile(file: string, opts: OpenOptions = {}): Promise<Buffer> {
  const handle = await openRegularFile(file, opts);
  try {
    return await readOpenedFile(handle, opts.timeoutMs ?? READ_TIMEOUT_MS);
  } finally {
    closeLater(handle);
  }
}

/** Bytes per read when an opened file is streamed (hashOpenedFile): all the memory streaming a file takes. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * The hash of an opened file's content, from its first byte to its end, streamed through one reused buffer of
 * STREAM_CHUNK_BYTES: a file of any size costs that much memory. Positional reads (the descriptor's offset is left
 * alone). Each read must answer within the time limit: a large file read slowly is read to its end, one that stops
 * answering is given up on (UnreadableFile). Resolves with the hex digest and the number of bytes hashed.
 */
export async function hashOpenedFile(
  handle: fs.promises.FileHandle,
  opts: { algorithm?: string; timeoutMs?: number } = {},
): Promise<{ hash: string; size: number }> {
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS;
  const hash = crypto.createHash(opts.algorithm ?? 'sha256');
  const buffer = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
  let size = 0;
  for (;;) {
    const read = handle.read(buffer, 0, buffer.length, size);
    const { bytesRead } = await withTimeout(read, ms, `Did not answer within ${ms / 1000} s`, () => undefined);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { hash: hash.digest('hex'), size };
}

let procFd: boolean | undefined;

/**
 * A path through which other code (libvips, an EXIF reader) opens the very file `opened` is open on, never what its
 * name points to now: Linux's /proc/self/fd/<fd>, whose open reopens the descriptor's own inode, so a name swapped
 * since for a link, a FIFO or another file changes nothing. Null where there is none: no /proc (macOS, Windows;
 * macOS's /dev/fd/<fd> duplicates the descriptor, offset and all, rather than reopening the file), or one whose
 * entry is not this file (checked by device and inode, within the time limit). Valid while the handle is open.
 */
export async function descriptorPath(opened: OpenedFile, timeoutMs = READ_TIMEOUT_MS): Promise<string | null> {
  procFd ??= process.platform === 'linux' && fs.existsSync('/proc/self/fd');
  if (!procFd) return null;
  const file = `/proc/self/fd/${opened.handle.fd}`;
  const stat = withTimeout(fs.promises.stat(file), timeoutMs, 'Did not answer', () => undefined);
  const st = await stat.catch(() => null);
  return st && st.dev === opened.stat.dev && st.ino === opened.stat.ino ? file : null;
}
