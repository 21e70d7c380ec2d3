// Writing a file whole or not at all, for the files Doppel writes next to a model or a library (cards, weights,
// dataset caches). The thumbnail cache has its own asynchronous writer (library/thumbnails.ts).
import fs from 'node:fs';

/** Writes `file` through a temporary sibling and a rename, so a killed process never leaves half a file. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
