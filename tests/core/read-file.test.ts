// Files that are not what they were when the folder was scanned: a photo swapped for a FIFO after the scan is
// reported and skipped, and the run ends (it used to block a thread for good); links, folders and devices are
// refused on the descriptor that was opened, and a regular file is read whole.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexFolders } from '../../src/core/indexer/indexer.js';
import crypto from 'node:crypto';
import {
  descriptorPath,
  hashOpenedFile,
  openRegularFile,
  openRegularFileStat,
  readRegularFile,
  STREAM_CHUNK_BYTES,
} from '../../src/core/library/read-file.js';
import { ModelInfo } from '../../src/core/model/card.js';
import { LazyModel } from '../../src/core/model/lazy-model.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { Store } from '../../src/core/store/repository.js';
import { photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-read-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('reading library files', () => {
  it('reports a photo swapped for a FIFO after the scan, and indexes the rest', async () => {
    const lib = path.join(tmp, 'lib');
    fs.mkdirSync(lib);
    const files = photos('CBSD68', 3).map((f, i) => {
      const dest = path.join(lib, `${i}.png`);
      fs.copyFileSync(f, dest);
      return dest;
    });
    const store = Store.open(path.join(tmp, 'library.sqlite'));
    const model = new LazyModel(ModelInfo.read(defaultModelsDir()));
    try {
      const folder = store.addFolder(lib);
      let swapped = false;
      const summary = await indexFolders(store, model, [folder], {
        thumbnailDir: path.join(tmp, 'thumbnails'),
        // Called after the scan, before the first file is read: the second photo becomes a FIFO no one writes to.
        whenRunnable: async () => {
          if (swapped) return;
          swapped = true;
          fs.rmSync(files[1]!);
          execFileSync('mkfifo', [files[1]!]);
        },
      });
      expect(swapped).toBe(true);
      expect(summary.errors).toEqual([{ path: files[1], reason: expect.stringMatching(/FIFO/) }]);
      expect(summary.added).toBe(3);
      const listed = store.photosInFolder(folder.id);
      expect(listed.filter((p) => p.status === 'indexed').map((p) => p.path)).toEqual([files[0], files[2]]);
    } finally {
      store.close();
      await model.dispose();
    }
  });

  it('refuses FIFOs, folders, devices and links it was not asked to follow, on the opened descriptor', async () => {
    const dir = path.join(tmp, 'kinds');
    fs.mkdirSync(dir);
    const fifo = path.join(dir, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    const photo = path.join(dir, 'photo.png');
    fs.copyFileSync(photos('CBSD68', 1)[0]!, photo);
    const link = path.join(dir, 'link.png');
    fs.symlinkSync(photo, link);
    await expect(readRegularFile(fifo)).rejects.toThrow(/FIFO/);
    await expect(readRegularFile(dir)).rejects.toThrow(/folder/);
    await expect(readRegularFile('/dev/zero')).rejects.toThrow(/device/);
    await expect(readRegularFile(link)).rejects.toThrow(/symbolic link/);
    expect((await readRegularFile(link, { followSymlinks: true })).equals(fs.readFileSync(photo))).toBe(true);
    expect((await readRegularFile(photo)).equals(fs.readFileSync(photo))).toBe(true);
  });

  it('refuses a file that is not the one a stat saw before', async () => {
    const dir = path.join(tmp, 'swap');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'photo.png');
    fs.copyFileSync(photos('CBSD68', 1)[0]!, file);
    const before = fs.statSync(file);
    // Replaced by another file under the same name (made while the first exists: another inode), as editors save.
    fs.copyFileSync(photos('CBSD68', 2)[1]!, `${file}.new`);
    fs.renameSync(`${file}.new`, file);
    await expect(openRegularFile(file, { expect: { dev: before.dev, ino: before.ino } })).rejects.toThrow(/Changed/);
    const now = fs.statSync(file);
    const handle = await openRegularFile(file, { expect: { dev: now.dev, ino: now.ino } });
    await handle.close();
  });

  it('hashes an opened file in chunks: the same sha256 as the whole file, from the start whatever its offset', async () => {
    const file = path.join(tmp, 'chunks.bin');
    // Over two chunks and not a multiple of one: the last read is short.
    const bytes = Buffer.concat([fs.readFileSync(photos('CBSD68', 1)[0]!), crypto.randomBytes(2 * STREAM_CHUNK_BYTES)]);
    fs.writeFileSync(file, bytes);
    const handle = await openRegularFile(file);
    try {
      await handle.read(Buffer.alloc(100), 0, 100, null); // moves the descriptor's offset
      const sha = crypto.createHash('sha256').update(bytes).digest('hex');
      expect(await hashOpenedFile(handle)).toEqual({ hash: sha, size: bytes.length });
      expect(await hashOpenedFile(handle)).toEqual({ hash: sha, size: bytes.length });
    } finally {
      await handle.close();
    }
  });

  it.skipIf(process.platform !== 'linux')(
    'gives a path to the opened file itself: a name swapped since for a FIFO or a link changes nothing',
    async () => {
      const dir = path.join(tmp, 'fd-path');
      fs.mkdirSync(dir);
      const file = path.join(dir, 'photo.png');
      const photo = photos('CBSD68', 1)[0]!;
      fs.copyFileSync(photo, file);
      const opened = await openRegularFileStat(file);
      try {
        fs.rmSync(file);
        execFileSync('mkfifo', [file]);
        const fdPath = await descriptorPath(opened);
        expect(fdPath).toBe(`/proc/self/fd/${opened.handle.fd}`);
        expect(fs.readFileSync(fdPath!).equals(fs.readFileSync(photo))).toBe(true);
        fs.rmSync(file);
        fs.symlinkSync('/dev/zero', file);
        expect(fs.readFileSync(fdPath!).equals(fs.readFileSync(photo))).toBe(true);
      } finally {
        await opened.handle.close();
      }
    },
  );
});
