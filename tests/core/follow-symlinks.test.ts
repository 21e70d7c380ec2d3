// Following symbolic links as a saved setting of each folder, end to end on real files, a real library file and real
// photos: every scan of a following folder keeps the photos behind its links (not only the run that was told), their
// originals are served through the link as long as it leads to the file indexed, and they can be moved to the trash
// (the link moves, never its target) and put back, with the journal settling a move cut short at each point.
// HOME is set before anything moves (the `trash` package reads it once).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegularFile } from '../../src/core/library/read-file.js';
import { resolveMedia } from '../../src/core/media.js';
import { DoppelService } from '../../src/core/service.js';
import { Store } from '../../src/core/store/repository.js';
import { createMediaHandler } from '../../src/main/protocol.js';
import { startBridge, type Bridge } from '../../src/server/index.js';
import type { FolderInfo } from '../../src/shared/api.js';
import { beginTrashMove, copyInto, photos, REPO, tempDir, useTempTrash, writeTrashInfo } from '../helpers.js';

const tmp = tempDir('doppel-links-');
const TRASH = useTempTrash(tmp);
const dbPath = path.join(tmp, 'library.sqlite');
/** The photos the links lead to: outside every library folder. */
const outside = path.join(tmp, 'outside');
/** A folder that follows links (saved), and one that does not. */
const lib = path.join(tmp, 'lib');
const plain = path.join(tmp, 'plain');
let service: DoppelService;
let store: Store;
let bridge: Bridge;
let folder: FolderInfo;
let targets: string[];

const link = (name: string) => path.join(lib, name);
const digest = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const trashNames = (sub: 'files' | 'info') => {
  try {
    return fs.readdirSync(path.join(TRASH, sub)).sort();
  } catch {
    return [];
  }
};
const paths = async () => (await service.listPhotos({ limit: 1000 })).photos.map((p) => p.path).sort();
const idOf = async (file: string) =>
  (await service.listPhotos({ limit: 1000 })).photos.find((p) => p.path === file)!.id;

beforeAll(async () => {
  targets = copyInto(photos('CSet14', 5), outside);
  fs.mkdirSync(path.join(outside, 'dir'));
  fs.renameSync(targets[4]!, path.join(outside, 'dir', path.basename(targets[4]!)));
  targets[4] = path.join(outside, 'dir', path.basename(targets[4]!));
  copyInto(photos('CSun_Hays80', 1), lib);
  copyInto(photos('CSun_Hays80', 2).slice(1), plain);
  fs.symlinkSync(targets[0]!, link('abs.png')); // absolute
  fs.symlinkSync(path.relative(lib, targets[1]!), link('rel.png')); // relative: it leads nowhere from the trash
  fs.symlinkSync(targets[2]!, link('third.png'));
  fs.symlinkSync(path.join(outside, 'dir'), link('linked-dir'));
  fs.symlinkSync(targets[0]!, path.join(plain, 'ignored.png'));
  service = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
  folder = await service.addFolder(lib, { followSymlinks: true });
  await service.addFolder(plain);
  await service.indexFolders([folder], { exclude: [] });
  store = Store.open(dbPath);
  const rendererDir = path.join(tmp, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Doppel</title>');
  bridge = await startBridge({ service, media: service.mediaLibrary(), rendererDir });
}, 120_000);

afterAll(async () => {
  await bridge?.close();
  store?.close();
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const linked = () => [link('abs.png'), path.join(link('linked-dir'), path.basename(targets[4]!)), link('rel.png')];

describe('the saved setting', () => {
  it('is saved on the folder, and every later scan keeps the photos reached through links', async () => {
    const own = path.join(lib, path.basename(photos('CSun_Hays80', 1)[0]!));
    const expected = [...linked(), link('third.png'), own].sort();
    expect((await paths()).filter((p) => p.startsWith(lib + path.sep))).toEqual(expected);
    expect((await service.listFolders()).map((f) => [f.path, f.followSymlinks])).toEqual([
      [lib, true],
      [plain, false],
    ]);
    // A plain run over every folder (the app's re-index, `doppel index` without the flag) ...
    await service.indexAll();
    expect((await paths()).filter((p) => p.startsWith(lib + path.sep))).toEqual(expected);
    // ... the watcher's rescan on start ...
    await service.startWatching({ polling: 'never' });
    await service.stopWatching();
    expect((await paths()).filter((p) => p.startsWith(lib + path.sep))).toEqual(expected);
    // ... and adding the folder again without saying: the setting stays.
    expect((await service.addFolder(lib)).followSymlinks).toBe(true);
    // The folder that does not follow links passes over its link.
    expect(await paths()).not.toContain(path.join(plain, 'ignored.png'));
  });

  it('drops the photos behind links at the next scan once turned off, and finds them again when on', async () => {
    await service.setFolderFollowSymlinks(folder.id, false);
    await service.indexAll();
    expect((await paths()).filter((p) => p.startsWith(lib + path.sep))).toHaveLength(1);
    await service.addFolder(lib, { followSymlinks: true });
    await service.indexAll();
    expect((await paths()).filter((p) => p.startsWith(lib + path.sep))).toHaveLength(5);
  });
});

describe('media of a photo reached through a link', () => {
  it('serves the thumbnail and the original, through the bridge and the protocol, from the file indexed', async () => {
    const id = await idOf(link('abs.png'));
    const media = service.mediaLibrary();
    expect(resolveMedia(media, 'thumb', id)).not.toBeNull();
    expect(resolveMedia(media, 'original', id)).toMatchObject({ path: link('abs.png'), followSymlinks: true });
    const bytes = fs.readFileSync(targets[0]!);
    const viaBridge = await fetch(`${bridge.url}media/original/${id}`);
    expect(viaBridge.status).toBe(200);
    expect(Buffer.from(await viaBridge.arrayBuffer()).equals(bytes)).toBe(true);
    const viaProtocol = await createMediaHandler(media)({ url: `doppel://original/${id}` });
    expect(viaProtocol.status).toBe(200);
    expect(Buffer.from(await viaProtocol.arrayBuffer()).equals(bytes)).toBe(true);
    const thumb = await fetch(`${bridge.url}media/thumb/${id}`);
    expect(thumb.status).toBe(200);
    expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // Through a linked folder too.
    const inDir = await idOf(linked()[1]!);
    const viaDir = await createMediaHandler(media)({ url: `doppel://original/${inDir}` });
    expect(viaDir.status).toBe(200);
    expect(Buffer.from(await viaDir.arrayBuffer()).equals(fs.readFileSync(targets[4]!))).toBe(true);
  });

  it('refuses a link turned to another file, before and after the check', async () => {
    const id = await idOf(link('abs.png'));
    const media = service.mediaLibrary();
    const checked = resolveMedia(media, 'original', id)!;
    const turn = (to: string) => {
      fs.symlinkSync(to, link('.turned'));
      fs.renameSync(link('.turned'), link('abs.png'));
    };
    turn(path.join(tmp, 'library.sqlite')); // a private file of the user's, outside the library
    try {
      await expect(
        openRegularFile(checked.path, { expect: checked.identity, followSymlinks: checked.followSymlinks }),
      ).rejects.toThrow(/Changed while it was being opened/);
      expect(resolveMedia(media, 'original', id)).toBeNull();
      const res = await fetch(`${bridge.url}media/original/${id}`);
      expect(res.status).toBe(404);
    } finally {
      turn(targets[0]!);
    }
    expect(resolveMedia(media, 'original', id)).not.toBeNull();
  });

  it('stays refused in a folder that does not follow links', async () => {
    const id = await idOf(link('abs.png'));
    store.setFolderFollowSymlinks(folder.id, false);
    try {
      expect(resolveMedia(service.mediaLibrary(), 'original', id)).toBeNull();
      expect((await fetch(`${bridge.url}media/original/${id}`)).status).toBe(404);
    } finally {
      store.setFolderFollowSymlinks(folder.id, true);
    }
  });
});

describe('moving a photo reached through a link to the trash', () => {
  it('moves the links, never their targets, and undo brings the links back', async () => {
    const moved = [link('abs.png'), link('rel.png')];
    const before = moved.map((p) => fs.readlinkSync(p));
    const targetBytes = targets.slice(0, 2).map(digest);
    const ids = await Promise.all(moved.map(idOf));
    const report = await service.trashPhotos(ids, {});
    expect(report.skipped).toEqual([]);
    expect(report.files.map((f) => f.path)).toEqual(moved);
    for (const p of moved) expect(fs.lstatSync(p, { throwIfNoEntry: false }), p).toBeUndefined();
    expect(targets.slice(0, 2).map(digest)).toEqual(targetBytes);
    const inTrash = trashNames('files').map((n) => path.join(TRASH, 'files', n));
    expect(inTrash.map((f) => fs.lstatSync(f).isSymbolicLink())).toEqual([true, true]);
    expect(inTrash.map((f) => fs.readlinkSync(f)).sort()).toEqual([...before].sort());
    expect(store.getAction(report.actionId!)!.files.map((f) => f.linkTarget)).toEqual(before);
    expect(await paths()).not.toContain(moved[0]);

    const undo = await service.undoLastAction();
    expect(undo).toMatchObject({ restored: moved, failed: [], reindexed: 2 });
    expect(moved.map((p) => fs.lstatSync(p).isSymbolicLink())).toEqual([true, true]);
    expect(moved.map((p) => fs.readlinkSync(p))).toEqual(before);
    expect(moved.map(digest)).toEqual(targetBytes);
    expect(trashNames('files')).toEqual([]);
    expect(trashNames('info')).toEqual([]);
    expect(await paths()).toEqual(expect.arrayContaining(moved));
  });

  it('leaves a photo of a linked folder and a link turned elsewhere in place, saying why', async () => {
    const inDir = linked()[1]!;
    const third = link('third.png');
    fs.rmSync(third);
    fs.symlinkSync(targets[3]!, third); // the same name, another photo: not what was indexed
    try {
      const report = await service.trashPhotos([await idOf(inDir), await idOf(third)], {});
      expect(report.files).toEqual([]);
      expect(report.skipped).toEqual([
        { path: inDir, reason: expect.stringMatching(/^Reached through a linked folder/) as string },
        { path: third, reason: 'Changed since it was indexed; index the folder again first' },
      ]);
      expect(fs.existsSync(targets[4]!)).toBe(true);
      expect(fs.readlinkSync(third)).toBe(targets[3]);
    } finally {
      fs.rmSync(third);
      fs.symlinkSync(targets[2]!, third);
    }
  });
});

describe('the trash journal with links', () => {
  const writeInfo = (file: string) => writeTrashInfo(TRASH, file);
  /** The row a trash writes just before it moves the link, as a killed process leaves it. */
  const beginMove = (file: string) => beginTrashMove(store, file, fs.readlinkSync(file));

  it('settles a trash killed after the move, before it was logged: undo brings the link back', async () => {
    const file = link('rel.png');
    const target = fs.readlinkSync(file);
    const actionId = beginMove(file);
    const name = writeInfo(file);
    fs.renameSync(file, path.join(TRASH, 'files', name));
    const undo = await service.undoLastAction();
    expect(undo).toMatchObject({ actionId, restored: [file], failed: [], reindexed: 1 });
    expect(fs.readlinkSync(file)).toBe(target);
    expect(trashNames('files')).toEqual([]);
    expect(trashNames('info')).toEqual([]);
  });

  it('settles a trash killed before the move, and clears the link a move across devices cut short left', async () => {
    const file = link('abs.png');
    beginMove(file);
    const name = writeInfo(file);
    // What a move across devices leaves when killed between making the link in the trash and unlinking this one.
    fs.symlinkSync(fs.readlinkSync(file), path.join(TRASH, 'files', name));
    await expect(service.undoLastAction()).rejects.toMatchObject({ kind: 'not-found' });
    expect(trashNames('files')).toEqual([]);
    expect(trashNames('info')).toEqual([]);
    expect(fs.readlinkSync(file)).toBe(targets[0]);
    expect(await paths()).toContain(file);
    expect(store.movingActionFiles()).toEqual([]);
  });
});
