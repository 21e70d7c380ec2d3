// A photo's fingerprint: the content hash it is stored and matched by (copies, moves, exact duplicates, the trash
// journal's check that a file is the one it moved). Streamed for large files by read-file.ts hashOpenedFile.
import crypto from 'node:crypto';

/** The content hash photos are stored and matched by (copies, moves, duplicates). */
export const CONTENT_HASH = 'sha256';

export function contentHash(bytes: Uint8Array): string {
  return crypto.createHash(CONTENT_HASH).update(bytes).digest('hex');
}
