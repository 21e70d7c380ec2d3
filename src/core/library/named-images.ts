// The image files a user names for "find similar" (`Doppel --find-similar <file...>` from a file manager, or
// `doppel find-similar <file...>`): files anywhere, in the library or not, read whole so that they can be searched
// by their bytes like an image dropped on the window. Only the files named are read, each opened once as a regular
// file (a symbolic link named is followed: the user chose it), at most API_LIMITS.maxImageBytes, within the read
// time limit. A file that cannot be read is reported with the reason, never thrown.
import path from 'node:path';
import type { FindSimilarRequest, NamedImage } from '../../shared/ipc.js';
import { API_LIMITS } from '../api-schema.js';
import { closeLater, openRegularFileStat, readOpenedFile, READ_TIMEOUT_MS } from './read-file.js';

export const NAMED_IMAGE_LIMITS = {
  /** Files one request reads; the others are reported. */
  maxFiles: 20,
  /** Bytes of one file: what DoppelApi.similarToImage accepts. */
  maxBytes: API_LIMITS.maxImageBytes,
  /** Bytes of all the files of one request. */
  maxTotalBytes: 2 * API_LIMITS.maxImageBytes,
} as const;

export type NamedImageLimits = { [K in keyof typeof NAMED_IMAGE_LIMITS]: number };

function size(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The reason shown for a file that could not be opened or read. */
function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'No such file';
  if (code === 'EACCES' || code === 'EPERM') return 'Permission denied: the file cannot be read';
  if (code === 'ENOTDIR') return 'No such file (a part of its path is not a folder)';
  if (code === 'ENAMETOOLONG') return 'The name is too long';
  if (code === 'ELOOP') return 'Too many symbolic links';
  if (err instanceof Error && !code) return err.message;
  return `Cannot be read (${code ?? String(err)})`;
}

async function readOne(file: string, limits: NamedImageLimits, left: number, timeoutMs: number): Promise<Buffer> {
  const { handle, stat } = await openRegularFileStat(file, { followSymlinks: true, timeoutMs });
  try {
    const tooBig = (bytes: number): string | null =>
      bytes > limits.maxBytes
        ? `Too large: ${size(bytes)}, more than the ${size(limits.maxBytes)} an image may have`
        : bytes > left
          ? `Not read: with the files before it, more than the ${size(limits.maxTotalBytes)} one request may read`
          : null;
    const before = tooBig(stat.size);
    if (before) throw new Error(before);
    const bytes = await readOpenedFile(handle, timeoutMs);
    // The file may have grown between the fstat and the read.
    const after = tooBig(bytes.length);
    if (after) throw new Error(after);
    if (bytes.length === 0) throw new Error('The file is empty');
    return bytes;
  } finally {
    closeLater(handle);
  }
}

/**
 * Reads the files named (absolute paths, in order; a path named twice is read once). Never rejects: what cannot be
 * read is in `problems`, with the reason.
 */
export async function readNamedImages(
  files: readonly string[],
  opts: { limits?: NamedImageLimits; timeoutMs?: number } = {},
): Promise<FindSimilarRequest> {
  const limits = opts.limits ?? NAMED_IMAGE_LIMITS;
  const timeoutMs = opts.timeoutMs ?? READ_TIMEOUT_MS;
  const read: NamedImage[] = [];
  const problems: FindSimilarRequest['problems'] = [];
  let left = limits.maxTotalBytes;
  const unique = [...new Set(files)];
  for (const [i, file] of unique.entries()) {
    if (i >= limits.maxFiles) {
      problems.push({ path: file, reason: `Not read: at most ${limits.maxFiles} files are opened at a time` });
      continue;
    }
    try {
      const bytes = await readOne(file, limits, left, timeoutMs);
      left -= bytes.length;
      read.push({ name: path.basename(file), path: file, bytes: new Uint8Array(bytes) });
    } catch (err) {
      problems.push({ path: file, reason: reasonOf(err) });
    }
  }
  return { files: read, problems };
}

/** One line a person can read about a file that could not be opened. */
export function describeProblem(problem: { path: string; reason: string }): string {
  return `${problem.path}: ${problem.reason}`;
}
