// Undo that never gets stuck: a restore cut short between its hard link and its unlink is finished by the next
// undo, and an action whose file can never come back (a file of the user's now at its path) is closed with a
// report, so the undo after it goes on to the older action. HOME is set before anything moves (the `trash`
// package reads it once).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoppelService } from '../../src/core/service.js';
import { photos, REPO, tempDir, useTempTrash } from '../helpers.js';

const tmp = tempDir('doppel-undo-');
const TRASH = useTempTrash(tmp);
const lib = path.join(tmp, 'library');
let service: DoppelService;
const files: string[] = [];

const digest = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

beforeAll(async () => {
  fs.mkdirSync(lib);
  for (const [i, src] of photos('CSet14', 3).entries()) {
    const dest = path.join(lib, `photo-${i}${path.extname(src)}`);
    fs.copyFileSync(src, dest);
    files.push(dest);
  }
  service = await DoppelService.open({
    dbPath: path.join(tmp, 'library.sqlite'),
    modelsDir: path.join(REPO, 'models'),
  });
  await service.addFolder(lib);
  await service.indexAll();
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const idOf = async (file: string) => (await service.listPhotos({})).photos.find((p) => p.path === file)!.id;

describe('undo recovery', () => {
  it('finishes a restore cut short after the link, and closes an action whose file cannot come back', async () => {
    const bytes = files.map(digest);
    const first = await service.trashPhotos([await idOf(files[0]!)], {});
    const second = await service.trashPhotos([await idOf(files[1]!)], {});
    expect(first.files).toHaveLength(1);
    expect(second.files).toHaveLength(1);

    // The user saves a new file where the second photo was: undo must never replace it.
    fs.writeFileSync(files[1]!, "the user's new file");
    const stuck = await service.undoLastAction();
    expect(stuck.actionId).toBe(second.actionId);
    expect(stuck.restored).toEqual([]);
    expect(stuck.retried).toBe(0);
    expect(stuck.failed).toEqual([
      { path: files[1], reason: expect.stringMatching(/taken its place.*restore it from the trash/) },
    ]);
    expect(fs.readFileSync(files[1]!, 'utf8')).toBe("the user's new file");
    // The trashed photo is still in the trash, whole.
    const inTrash = fs.readdirSync(path.join(TRASH, 'files')).map((f) => path.join(TRASH, 'files', f));
    expect(inTrash.map(digest)).toContain(bytes[1]);

    // The next undo goes on to the older action instead of failing on the same file again.
    const older = await service.undoLastAction();
    expect(older).toMatchObject({ actionId: first.actionId, restored: [files[0]], failed: [] });
    expect(digest(files[0]!)).toBe(bytes[0]);

    // A restore killed between link() and unlink(): the photo is back in place and still in the trash.
    const third = await service.trashPhotos([await idOf(files[2]!)], {});
    const trashed = fs
      .readdirSync(path.join(TRASH, 'files'))
      .map((f) => path.join(TRASH, 'files', f))
      .find((f) => digest(f) === bytes[2])!;
    fs.linkSync(trashed, files[2]!);
    const finished = await service.undoLastAction();
    expect(finished).toMatchObject({ actionId: third.actionId, restored: [files[2]], failed: [] });
    expect(digest(files[2]!)).toBe(bytes[2]);
    expect(fs.existsSync(trashed)).toBe(false);
    expect(fs.readdirSync(path.join(TRASH, 'info')).filter((f) => f.startsWith(path.basename(files[2]!)))).toEqual([]);
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
  }, 120_000);
});
