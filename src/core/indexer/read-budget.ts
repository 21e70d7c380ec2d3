// How much of the library's file content indexing holds in memory at once. Files are read and decoded several at a
// time (two per core); without a bound, what they take is file size times that count (four 1.9 GB files on two
// cores: 7.9 GB). A file up to WHOLE_READ_MAX_BYTES is read whole, as before, and its size counts against a byte
// budget until it has been hashed and decoded; a larger file is never read whole where the decoder can be given the
// open descriptor: it is hashed in chunks and decoded by libvips through the descriptor (library/read-file.ts,
// descriptorPath), one such file at a time. Where there is no such path, a file up to the budget is read whole
// under the budget and a larger one is refused with its reason.
import type { ImageFile } from '../imaging/decode.js';
import { CONTENT_HASH, contentHash } from '../library/fingerprint.js';
import {
  descriptorPath,
  hashOpenedFile,
  READ_TIMEOUT_MS,
  readOpenedFile,
  UnreadableFile,
  type OpenedFile,
} from '../library/read-file.js';

const MiB = 1024 * 1024;

/**
 * Files up to this size are read whole. Far above any ordinary photo (a 50-megapixel camera JPEG is ~25 MB, a phone
 * HEIC a few MB, a 24-megapixel 16-bit PNG ~100 MB at worst), so ordinary photos are read and decoded exactly as
 * before; what is larger (huge TIFFs and PNGs, video or disk images named .jpg) is streamed.
 */
export const WHOLE_READ_MAX_BYTES = 64 * MiB;

/**
 * The bytes of whole-read files in flight at once. Four files at WHOLE_READ_MAX_BYTES, or 32 photos of 8 MB (two
 * per core on 16 cores), so ordinary libraries never wait on it; well under the memory of any machine that runs
 * the app, beside the decoders' own (bounded by their pixel limit) and the model's.
 */
export const IN_FLIGHT_BUDGET_BYTES = 256 * MiB;

/** Runs work that holds a weight of a shared capacity: at most `capacity` in all at once, first come first served. */
export class WeightedSemaphore {
  private available: number;
  private readonly waiting: { weight: number; wake: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`A semaphore needs a positive capacity, got ${capacity}`);
    this.available = capacity;
  }

  /** Waits until `weight` is free and takes it; resolves with the function that gives it back (once). */
  async acquire(weight: number): Promise<() => void> {
    if (!(weight >= 0 && weight <= this.capacity)) {
      throw new RangeError(`Cannot take ${weight} of a capacity of ${this.capacity}`);
    }
    // Behind others already waiting, even when it would fit: a large weight is not starved by small ones.
    if (this.waiting.length === 0 && weight <= this.available) this.available -= weight;
    else await new Promise<void>((wake) => this.waiting.push({ weight, wake }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.available += weight;
      this.wakeWaiting();
    };
  }

  /** Runs `work` holding `weight`, given back however it ends. */
  async use<T>(weight: number, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(weight);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private wakeWaiting(): void {
    for (let next = this.waiting[0]; next && next.weight <= this.available; next = this.waiting[0]) {
      this.waiting.shift();
      this.available -= next.weight;
      next.wake();
    }
  }
}

export interface ReadLimits {
  wholeReadMaxBytes: number;
  inFlightBudgetBytes: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  wholeReadMaxBytes: WHOLE_READ_MAX_BYTES,
  inFlightBudgetBytes: IN_FLIGHT_BUDGET_BYTES,
};

export type ReadPlan = 'whole' | 'stream' | 'refuse';

/** How a file of `size` bytes is read: whole (under the budget), streamed through its descriptor, or not at all. */
export function readPlan(size: number, streamable: boolean, limits: ReadLimits = DEFAULT_READ_LIMITS): ReadPlan {
  const wholeMax = Math.min(limits.wholeReadMaxBytes, limits.inFlightBudgetBytes);
  if (size <= wholeMax) return 'whole';
  if (streamable) return 'stream';
  return size <= limits.inFlightBudgetBytes ? 'whole' : 'refuse';
}

/** A file's content as indexing uses it, held until `release` (after it has been decoded, or found known). */
export interface Content {
  /** contentHash of the content. */
  hash: string;
  /** Bytes hashed (the file's size when it was read). */
  size: number;
  /** What to decode: the bytes, or a path to the open descriptor (valid while the file stays open). */
  image: Uint8Array | ImageFile;
  release(): void;
}

const inMiB = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;

/** Reads library files within a byte budget (one per indexing run). */
export class ReadBudget {
  private readonly bytes: WeightedSemaphore;
  /** Streamed files, one at a time: each is large, and its decode may be. */
  private readonly streams = new WeightedSemaphore(1);

  constructor(
    readonly limits: ReadLimits = DEFAULT_READ_LIMITS,
    private readonly timeoutMs = READ_TIMEOUT_MS,
  ) {
    this.bytes = new WeightedSemaphore(limits.inFlightBudgetBytes);
  }

  /**
   * The content of an opened file, once its share of the budget is free. Rejects as reading does (UnreadableFile, an
   * fs error), with nothing held; the caller keeps the file open until it releases the content, and closes it then.
   */
  async read(file: OpenedFile): Promise<Content> {
    const { size } = file.stat;
    let plan = readPlan(size, true, this.limits);
    const source = plan === 'stream' ? await descriptorPath(file, this.timeoutMs) : null;
    if (plan === 'stream' && source === null) plan = readPlan(size, false, this.limits);
    if (plan === 'refuse') {
      throw new UnreadableFile(
        `Too large to index here (${inMiB(size)}; files over ${inMiB(this.limits.inFlightBudgetBytes)} are read ` +
          'only where the decoder can read them from the open file)',
      );
    }
    const semaphore = plan === 'stream' ? this.streams : this.bytes;
    const release = await semaphore.acquire(plan === 'stream' ? 1 : size);
    try {
      if (plan === 'stream') {
        const { hash, size: hashed } = await hashOpenedFile(file.handle, {
          algorithm: CONTENT_HASH,
          timeoutMs: this.timeoutMs,
        });
        return { hash, size: hashed, image: { file: source! }, release };
      }
      const bytes = await readOpenedFile(file.handle, this.timeoutMs);
      return { hash: contentHash(bytes), size: bytes.length, image: bytes, release };
    } catch (err) {
      release();
      throw err;
    }
  }
}
