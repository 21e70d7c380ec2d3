// The freedesktop trash, for real: files move into $XDG_DATA_HOME/Trash of a temporary HOME and come back
// byte-identical. HOME and XDG_DATA_HOME are set before anything moves (the `trash` package reads them once).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FreedesktopTrasher, parseTrashInfo, systemTrasher } from '../../src/core/duplicates/trash.js';
import { photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-trash-');
const home = path.join(tmp, 'home');
const dataHome = path.join(tmp, 'xdg-data');
fs.mkdirSync(home);
process.env.HOME = home;
process.env.XDG_DATA_HOME = dataHome;
const trashDir = path.join(dataHome, 'Trash');
const lib = path.join(tmp, 'library');
fs.mkdirSync(lib);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const trasher = new FreedesktopTrasher();

/** A file's SHA-256: as strict as comparing its bytes, and quick to compare and to print. */
const digest = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function copyPhoto(name: string, index = 0): { file: string; bytes: string } {
  const file = path.join(lib, name);
  fs.copyFileSync(photos('CSun_Hays80', index + 1)[index]!, file);
  return { file, bytes: digest(file) };
}

describe('FreedesktopTrasher', () => {
  it('uses $XDG_DATA_HOME/Trash, or ~/.local/share/Trash without it', () => {
    expect(trasher.homeTrash()).toBe(trashDir);
    expect(new FreedesktopTrasher({ HOME: home }).homeTrash()).toBe(path.join(home, '.local', 'share', 'Trash'));
    expect(new FreedesktopTrasher({ XDG_DATA_HOME: 'relative/ignored' }).homeTrash()).toBe(
      path.join(os.homedir(), '.local', 'share', 'Trash'),
    );
  });

  it('moves a photo into the trash with its .trashinfo and puts it back byte-identical', async () => {
    const { file, bytes } = copyPhoto('beach.jpg');
    const mtime = fs.statSync(file).mtimeMs;
    const record = await trasher.trash(file);
    expect(fs.existsSync(file)).toBe(false);
    expect(record).toEqual({
      originalPath: file,
      trashPath: expect.stringMatching(new RegExp(`^${trashDir}/files/`)) as string,
      infoPath: expect.stringMatching(new RegExp(`^${trashDir}/info/.+\\.trashinfo$`)) as string,
      deletedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/) as string,
    });
    expect(digest(record.trashPath!)).toEqual(bytes);
    const info = fs.readFileSync(record.infoPath!, 'utf8');
    expect(parseTrashInfo(info, '/')).toEqual({ path: file, deletionDate: record.deletedAt });

    await trasher.restore(record);
    expect(digest(file)).toEqual(bytes);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    expect(fs.existsSync(record.trashPath!)).toBe(false);
    expect(fs.existsSync(record.infoPath!)).toBe(false);
  });

  it('takes a name with glob and URL characters literally', async () => {
    const { file, bytes } = copyPhoto('[1] été #2 100%?.jpg', 1);
    const decoy = copyPhoto('1.jpg', 2); // what the glob "[1]..." could match if globbing were on
    const record = await trasher.trash(file);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(decoy.file)).toBe(true);
    await trasher.restore(record);
    expect(digest(file)).toEqual(bytes);
  });

  it('tells apart two files trashed from the same path in the same second', async () => {
    const first = copyPhoto('again.jpg', 0);
    const r1 = await trasher.trash(first.file);
    const second = copyPhoto('again.jpg', 3);
    const r2 = await trasher.trash(second.file);
    expect(r2.trashPath).not.toBe(r1.trashPath);
    await trasher.restore(r1);
    expect(digest(first.file)).toEqual(first.bytes);
    // The first one is back in place: the second refuses to overwrite it and stays in the trash.
    await expect(trasher.restore(r2)).rejects.toMatchObject({
      kind: 'io',
      message: `Cannot put ${second.file} back: another file has taken its place`,
    });
    expect(digest(r2.trashPath!)).toEqual(second.bytes);
    fs.rmSync(first.file);
    await trasher.restore(r2);
    expect(digest(second.file)).toEqual(second.bytes);
  });

  it('recreates a vanished folder on restore, and says so when the trash was emptied', async () => {
    const sub = path.join(lib, 'sub');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'x.jpg');
    fs.copyFileSync(photos('CSun_Hays80', 1)[0]!, file);
    const record = await trasher.trash(file);
    fs.rmSync(sub, { recursive: true });
    await trasher.restore(record);
    expect(fs.existsSync(file)).toBe(true);
    const again = await trasher.trash(file);
    fs.rmSync(again.trashPath!);
    await expect(trasher.restore(again)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('refuses folders, missing files and records without a trash location', async () => {
    await expect(trasher.trash(lib)).rejects.toMatchObject({ kind: 'invalid-argument' });
    await expect(trasher.trash(path.join(lib, 'missing.jpg'))).rejects.toMatchObject({ kind: 'not-found' });
    await expect(trasher.trash('relative.jpg')).rejects.toMatchObject({ kind: 'invalid-argument' });
    await expect(
      trasher.restore({ originalPath: '/x.jpg', trashPath: null, infoPath: null, deletedAt: null }),
    ).rejects.toMatchObject({ kind: 'unsupported' });
    expect(fs.existsSync(lib)).toBe(true);
  });
});

describe('trash helpers', () => {
  it('parses .trashinfo files: percent-encoded, absolute or relative to the top folder', () => {
    expect(
      parseTrashInfo('[Trash Info]\nPath=/home/u/My%20Photos/a%25b.jpg\nDeletionDate=2026-01-02T03:04:05\n', '/'),
    ).toEqual({ path: '/home/u/My Photos/a%b.jpg', deletionDate: '2026-01-02T03:04:05' });
    expect(parseTrashInfo('[Trash Info]\nPath=photos/a.jpg\n', '/media/usb')).toEqual({
      path: '/media/usb/photos/a.jpg',
      deletionDate: null,
    });
    expect(parseTrashInfo('not a trashinfo', '/')).toBeNull();
  });

  it('picks the freedesktop trash on Linux and a one-way trash that says why where undo is impossible', () => {
    expect(systemTrasher('linux')).toBeInstanceOf(FreedesktopTrasher);
    expect(systemTrasher('linux').restoreUnsupported).toBeNull();
    expect(systemTrasher('darwin').restoreUnsupported).toMatch(/^Undo is not available on macOS/);
    expect(systemTrasher('win32').restoreUnsupported).toMatch(/^Undo is not available on Windows/);
  });
});
