// Reading a photo of the library safely: the file is opened once, without blocking on a FIFO or device and without
// following a link the caller did not ask to follow; the descriptor's own fstat must show a regular file (and, when
// the caller checked one before, the same file); every step has a time limit, so a file that never answers (a FIFO
// swapped in after the scan, a hung network mount) is reported and skipped instead of holding up the run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { DoppelError } from '../../shared/api.js';

/**
 * How long a file may take to open, and each read of it to answer, before it is given up on: 30 s, or
 * DOPPEL_READ_TIMEOUT_MS (milliseconds) for drives slower than that, or for tests.
 */
export const READ_TIMEOUT_MS = readTimeoutFromEnv(process.env.DOPPEL_READ_TIMEOUT_MS);

function readTimeoutFromEnv(value: string | undefined): number {
  const ms = value === undefined ? NaN : Number(value);
  return Number.isInteger(ms) && ms > 0 ? ms : 30_000;
}

export interface OpenOptions {
  /** Open through a symbolic link at the path's last component (default false: a link there is refused). */
  followSymlinks?: boolean;
  /** The file must be this one (device and inode, as a stat made before saw it). */
  expect?: { dev: number; ino: number };
  /**
   * The device the file is on, as a scan saw it (`expect` gives it too): a file on a drive that has a read given up
   * on, still unanswered, is refused at once instead of tying up another thread for the whole time limit.
   */
  device?: number;
  timeoutMs?: number;
  /** Gives up on the open (and, through the handle, on its reads) when this aborts. */
  signal?: AbortSignal;
}

/**
 * `work` (a listing or a stat of the scan) within the time limit, counted against `device` when it is given up on:
 * rejects with UnreadableFile (`retry` set), or at once when the drive already has an operation unanswered.
 */
export function answeredWithin<T>(
  work: () => Promise<T>,
  opts: { device?: number; timeoutMs?: number; late?: (value: T) => void; signal?: AbortSignal },
): Promise<T> {
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS;
  if (opts.device !== undefined && deviceNotAnswering(opts.device)) return Promise.reject(notAnswering(ms));
  return withTimeout(work(), { ms, message: noAnswer(ms), ...opts });
}

/** The reason given for an operation that got no answer within `ms`. */
const noAnswer = (ms: number): string => `Did not answer within ${ms / 1000} s`;

function notAnswering(ms: number): UnreadableFile {
  return new UnreadableFile(
    `Not read: its drive stopped answering (a read there got no answer within ${ms / 1000} s)`,
    true,
  );
}

/** Thrown for a file that is not what a photo can be read from: its message is the reason shown to the user. */
export class UnreadableFile extends DoppelError {
  constructor(
    message: string,
    /** The file may read fine later: it was given up on (time limit, cancel, a drive not answering), not refused. */
    readonly retry = false,
  ) {
    super('io', message);
  }
}

/**
 * Operations given up on that have not answered since, by device. Each holds one of libuv's threads for as long as
 * the drive keeps it (a hung network share: for good), so a drive with one is not asked again until it answers.
 */
const unanswered = new Map<number, number>();
let unansweredTotal = 0;

/**
 * How many opens and reads this thread gave up on are still waiting for their drive (0 once they all answered).
 * While any is, the process cannot exit normally: Node's exit waits for libuv's threads.
 */
export function unansweredReads(): number {
  return unansweredTotal;
}

/** Whether a drive has an operation given up on that is still unanswered. */
export function deviceNotAnswering(device: number): boolean {
  return unanswered.has(device);
}

interface Limit<T> {
  ms: number;
  message: string;
  /** Gets what `work` yields after it was given up on (a handle to close). */
  late?: (value: T) => void;
  /** The drive the operation waits on: one given up on counts against it until it settles. */
  device?: number | undefined;
  /** Gives up at once when this aborts (a cancelled run), as when the time is up. */
  signal?: AbortSignal | undefined;
}

/**
 * An operation a cancelled run gives up on after waiting this long counts against its drive (at most the time
 * limit): one given up on sooner, on a drive that works, answers a moment later, and the next run reads there.
 */
export const CANCELLED_WAIT_MS = 1000;

/**
 * Resolves with `work`, or rejects with `message` once `ms` have passed or `signal` aborts. The time limit, or a
 * cancel after CANCELLED_WAIT_MS of waiting, marks the drive as not answering until the operation settles.
 */
function withTimeout<T>(work: Promise<T>, { ms, message, late, device, signal }: Limit<T>): Promise<T> {
  let counted = false; // given up on (rejected) or overdue, and not settled: in unansweredTotal
  let overdue = false; // counted against the device
  const started = Date.now();
  let onAbort: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    const giveUp = (reason: string): void => {
      if (!counted) {
        counted = true;
        unansweredTotal++;
      }
      reject(new UnreadableFile(reason, true));
    };
    const markDrive = (): void => {
      if (overdue) return;
      overdue = true;
      if (device !== undefined) unanswered.set(device, (unanswered.get(device) ?? 0) + 1);
    };
    timer = setTimeout(() => {
      markDrive();
      giveUp(message);
    }, ms);
    timer.unref(); // a process with nothing else to do does not wait for it
    onAbort = () => {
      if (Date.now() - started >= Math.min(ms, CANCELLED_WAIT_MS)) markDrive();
      giveUp('Given up on: indexing was cancelled');
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  const answered = (): void => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (counted) unansweredTotal--;
    if (!overdue || device === undefined) return;
    const left = (unanswered.get(device) ?? 1) - 1;
    if (left > 0) unanswered.set(device, left);
    else unanswered.delete(device);
  };
  work.then((value) => {
    const givenUp = counted;
    answered();
    if (givenUp) late?.(value);
  }, answered);
  // Given up on or answered, a later abort changes nothing (the timer still marks a drive that never answers).
  return Promise.race([work, limit]).finally(() => signal?.removeEventListener('abort', onAbort));
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** The device and the caller's signal of each handle openRegularFileStat opened, for the limits of its reads. */
const limits = new WeakMap<fs.promises.FileHandle, { device: number; signal: AbortSignal | undefined }>();

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
  const device = opts.device ?? opts.expect?.dev;
  if (device !== undefined && deviceNotAnswering(device)) throw notAnswering(ms);
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.followSymlinks ? 0 : fs.constants.O_NOFOLLOW);
  const opening = fs.promises.open(file, flags).catch((err: NodeJS.ErrnoException) => {
    if (err?.code === 'ELOOP' && !opts.followSymlinks)
      throw new UnreadableFile('Is a symbolic link, and links are not followed here');
    throw err;
  });
  const { signal } = opts;
  const handle = await withTimeout(opening, {
    ms,
    message: `Did not open within ${ms / 1000} s`,
    late: closeLater,
    device,
    signal,
  });
  try {
    const stat = await withTimeout(handle.stat(), { ms, message: noAnswer(ms), device, signal });
    if (!stat.isFile()) throw new UnreadableFile(`Is ${kindOf(stat)}, not a photo file`);
    if (opts.expect && (stat.dev !== opts.expect.dev || stat.ino !== opts.expect.ino))
      throw new UnreadableFile('Changed while it was being opened');
    limits.set(handle, { device: stat.dev, signal });
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
    return await withTimeout(handle.readFile({ signal: abort.signal }), {
      ms: timeoutMs,
      message: noAnswer(timeoutMs),
      ...limits.get(handle),
    });
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

/** Reads into `buffer` from `position` of an opened file, within the time limit and counted against its drive. */
async function readAt(handle: fs.promises.FileHandle, buffer: Buffer, position: number, ms: number): Promise<number> {
  const read = handle.read(buffer, 0, buffer.length, position);
  return (await withTimeout(read, { ms, message: noAnswer(ms), ...limits.get(handle) })).bytesRead;
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
    const bytesRead = await readAt(handle, buffer, size, ms);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { hash: hash.digest('hex'), size };
}

/** Bytes per read when an original is served (servedStream). */
const SERVE_CHUNK_BYTES = 256 * 1024;

/**
 * An opened file's content, from its first byte, as a stream for serving: each read within the time limit and
 * counted against the file's drive when given up on (so the next request of a photo there is refused at once,
 * instead of another thread waiting for good). Resolves once the first read has answered, so that a drive that
 * stopped answering gets an error status rather than half a 200; rejects as reading does (UnreadableFile). The
 * handle is closed when the stream ends, fails or is destroyed.
 */
export async function servedStream(handle: fs.promises.FileHandle, timeoutMs = READ_TIMEOUT_MS): Promise<Readable> {
  let offset = 0;
  const next = async (): Promise<Buffer | null> => {
    const buffer = Buffer.allocUnsafe(SERVE_CHUNK_BYTES);
    const bytesRead = await readAt(handle, buffer, offset, timeoutMs);
    offset += bytesRead;
    return bytesRead === 0 ? null : buffer.subarray(0, bytesRead);
  };
  let first: Buffer | null;
  try {
    first = await next();
  } catch (err) {
    closeLater(handle);
    throw err;
  }
  return Readable.from(
    (async function* () {
      try {
        for (let chunk = first; chunk !== null; chunk = await next()) yield chunk;
      } finally {
        closeLater(handle);
      }
    })(),
  );
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
  const stat = withTimeout(fs.promises.stat(file), { ms: timeoutMs, message: 'Did not answer' });
  const st = await stat.catch(() => null);
  return st && st.dev === opened.stat.dev && st.ino === opened.stat.ino ? file : null;
}
