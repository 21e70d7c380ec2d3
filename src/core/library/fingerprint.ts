// A photo's fingerprint: the content hash it is stored and matched by (copies, moves, exact duplicates, the trash
// journal's check that a file is the one it moved; streamed for large files by read-file.ts hashOpenedFile), and
// the byte-for-byte comparison of two files that the trash and its journal make.
import crypto from 'node:crypto';
import fs from 'node:fs';

/** The content hash photos are stored and matched by (copies, moves, duplicates). */
export const CONTENT_HASH = 'sha256';

export function contentHash(bytes: Uint8Array): string {
  return crypto.createHash(CONTENT_HASH).update(bytes).digest('hex');
}

/**
 * Whether `copy` is a regular file whose bytes are `file`'s, or a beginning of them (a copy cut short), compared
 * in 1 MiB reads: files of any size cost that much memory.
 */
export async function holdsBeginningOf(copy: string, file: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.promises.lstat(copy).catch(() => null), fs.promises.lstat(file)]);
  if (!a?.isFile() || a.size > b.size) return false;
  const x = await fs.promises.open(copy, 'r');
  try {
    const y = await fs.promises.open(file, 'r');
    try {
      const size = 1 << 20;
      const bx = Buffer.alloc(size);
      const by = Buffer.alloc(size);
      for (let at = 0; at < a.size; at += size) {
        const [{ bytesRead: nx }, { bytesRead: ny }] = await Promise.all([
          x.read(bx, 0, size, at),
          y.read(by, 0, size, at),
        ]);
        if (nx === 0 || nx > ny || !bx.subarray(0, nx).equals(by.subarray(0, nx))) return false;
      }
      return true;
    } finally {
      await y.close();
    }
  } finally {
    await x.close();
  }
}
