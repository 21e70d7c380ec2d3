// The trash journal (duplicates/journal.ts) and the action lock (duplicates/action-lock.ts): each state a process
// killed during a trash or an undo can leave is made by hand here, as the `trash` package and undo leave it, and the
// next trash or undo must settle it with no photo lost, nothing left behind in the trash, and the library right.
// HOME is set before anything moves (the `trash` package reads it once).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockFileFor, withActionLock } from '../../src/core/duplicates/action-lock.js';
import { DoppelService } from '../../src/core/service.js';
import { Store } from '../../src/core/store/repository.js';
import { beginTrashMove, copyInto, photos, REPO, tempDir, useTempTrash, writeTrashInfo } from '../helpers.js';

const tmp = tempDir('doppel-journal-');
const TRASH = useTempTrash(tmp);
const lib = path.join(tmp, 'library');
const dbPath = path.join(tmp, 'library.sqlite');
let service: DoppelService;
/** A second connection to the library, to write what a killed process left. */
let store: Store;
const files: string[] = [];
const original = new Map<string, Buffer>();

const digest = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');
const trashNames = (sub: 'files' | 'info') => {
  try {
    return fs.readdirSync(path.join(TRASH, sub)).sort();
  } catch {
    return [];
  }
};
const writeInfo = (file: string, when?: Date) => writeTrashInfo(TRASH, file, when);
const beginMove = (file: string) => beginTrashMove(store, file);

const inLibrary = async (file: string) => (await service.listPhotos({})).photos.some((p) => p.path === file);

beforeAll(async () => {
  for (const dest of copyInto(photos('CSet14', 6), lib)) {
    files.push(dest);
    original.set(dest, fs.readFileSync(dest));
  }
  service = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
  await service.addFolder(lib);
  await service.indexAll();
  store = Store.open(dbPath);
});

afterAll(async () => {
  store?.close();
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the trash journal', () => {
  it('settles a trash killed after the .trashinfo was written, before the move: nothing moved', async () => {
    const file = files[0]!;
    beginMove(file);
    const name = writeInfo(file);
    // An older trash entry for the same path (the user's, from before) is not Doppel's to touch.
    const older = writeInfo(file, new Date(2020, 0, 1));
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
    expect(trashNames('info')).toEqual([`${older}.trashinfo`]);
    expect(trashNames('info')).not.toContain(`${name}.trashinfo`);
    expect(fs.readFileSync(file)).toEqual(original.get(file));
    expect(await inLibrary(file)).toBe(true);
    expect(store.movingActionFiles()).toEqual([]);
    fs.rmSync(path.join(TRASH, 'info', `${older}.trashinfo`));
  });

  it('settles a trash killed after the move, before it was logged: undo brings the photo back', async () => {
    const file = files[1]!;
    const actionId = beginMove(file);
    const name = writeInfo(file);
    fs.renameSync(file, path.join(TRASH, 'files', name));
    const undo = await service.undoLastAction();
    expect(undo).toMatchObject({ actionId, restored: [file], failed: [], reindexed: 1 });
    expect(fs.readFileSync(file)).toEqual(original.get(file));
    expect(trashNames('files')).toEqual([]);
    expect(trashNames('info')).toEqual([]);
    expect(await inLibrary(file)).toBe(true);
  });

  it('clears what a move across devices cut short mid-copy left in the trash', async () => {
    const file = files[2]!;
    beginMove(file);
    const name = writeInfo(file);
    const bytes = original.get(file)!;
    fs.writeFileSync(path.join(TRASH, 'files', name), bytes.subarray(0, bytes.length >> 1));
    // Any trash or undo settles the journal first; this trash then moves another photo, whole.
    const other = files[3]!;
    const id = (await service.listPhotos({})).photos.find((p) => p.path === other)!.id;
    const report = await service.trashPhotos([id], {});
    expect(report.files).toEqual([{ photoId: id, path: other }]);
    expect(fs.readFileSync(file)).toEqual(bytes);
    expect(await inLibrary(file)).toBe(true);
    const left = trashNames('files');
    expect(left).toHaveLength(1);
    expect(digest(fs.readFileSync(path.join(TRASH, 'files', left[0]!)))).toBe(digest(original.get(other)!));
    await service.undoLastAction();
    expect(trashNames('files')).toEqual([]);
  });

  it('finishes an undo killed after the file was put back, before it was marked', async () => {
    const file = files[4]!;
    const id = (await service.listPhotos({})).photos.find((p) => p.path === file)!.id;
    const report = await service.trashPhotos([id], {});
    const logged = store.getAction(report.actionId!)!.files[0]!;
    // What undo does, cut short before its .trashinfo went and before the log was told.
    fs.linkSync(logged.trashPath!, file);
    fs.unlinkSync(logged.trashPath!);
    const undo = await service.undoLastAction();
    expect(undo).toMatchObject({ actionId: report.actionId, restored: [file], failed: [] });
    expect(fs.readFileSync(file)).toEqual(original.get(file));
    expect(trashNames('info')).toEqual([]);
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('lets two trashes of the same photos at once move and log each photo once', async () => {
    const second = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
    try {
      const ids = (await service.listPhotos({})).photos.filter((p) => files.slice(0, 3).includes(p.path));
      const both = await Promise.allSettled([
        service.trashPhotos(
          ids.map((p) => p.id),
          {},
        ),
        second.trashPhotos(
          ids.map((p) => p.id),
          {},
        ),
      ]);
      // One moves the three; the other, run after it under the lock, finds none of them left and says so.
      const done = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(done).toHaveLength(1);
      expect(done[0]!.files.map((f) => f.path).sort()).toEqual(files.slice(0, 3).sort());
      const late = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(late.reason).toMatchObject({
        kind: 'not-found',
        message: expect.stringMatching(/None of these 3 photos/),
      });
      expect(trashNames('files')).toHaveLength(3);
      expect(store.loggedTrashPaths().size).toBe(3);
      await service.undoLastAction();
      for (const f of files) expect(fs.readFileSync(f)).toEqual(original.get(f));
      expect(trashNames('files')).toEqual([]);
      expect(trashNames('info')).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe('the action lock', () => {
  it('makes a trash or undo wait for another process, and is free once that process is killed', async () => {
    const lockFile = lockFileFor(dbPath)!;
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(lockFile)});
         db.exec('BEGIN EXCLUSIVE'); console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      await expect(withActionLock(lockFile, async () => 'ran', 300)).rejects.toThrow(
        /Another Doppel process has been moving files to the trash or undoing/,
      );
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
      await expect(withActionLock(lockFile, async () => 'ran', 300)).resolves.toBe('ran');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('runs the holders of one process one after the other', async () => {
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = withActionLock(lockFileFor(dbPath), async () => {
      order.push('first starts');
      await firstMayEnd;
      order.push('first ends');
    });
    const second = withActionLock(lockFileFor(dbPath), async () => {
      order.push('second starts');
    });
    await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second starts']);
  });
});
