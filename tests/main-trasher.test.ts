// The desktop app's Trasher with a fake shell.trashItem. On Linux the fake moves files the way the system does
// (the `trash` package, into the freedesktop trash of a temporary HOME); the trasher finds them there and puts
// them back byte for byte. Where the trash cannot be read back, undo says why.
import fs from 'node:fs';
import path from 'node:path';
import trash from 'trash';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ElectronTrasher } from '../src/main/trasher.js';
import { copyInto, photos, tempDir } from './helpers.js';

const root = tempDir('doppel-main-trash-');
const home = path.join(root, 'home');
const dataHome = path.join(home, '.local', 'share');
fs.mkdirSync(dataHome, { recursive: true });
// Before anything moves: the `trash` package reads these once.
process.env.HOME = home;
process.env.XDG_DATA_HOME = dataHome;

const systemShell = { trashItem: vi.fn(async (file: string) => trash([file], { glob: false })) };

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ElectronTrasher', () => {
  it('moves with shell.trashItem and, on Linux, puts the file back byte for byte', async () => {
    const [file] = copyInto(photos('CSet14', 1), path.join(root, 'photos'));
    const bytes = fs.readFileSync(file!);
    const trasher = new ElectronTrasher(systemShell, 'linux');
    expect(trasher.restoreUnsupported).toBeNull();
    const record = await trasher.trash(file!);
    expect(systemShell.trashItem).toHaveBeenCalledWith(file);
    expect(fs.existsSync(file!)).toBe(false);
    expect(record.trashPath?.startsWith(path.join(dataHome, 'Trash', 'files'))).toBe(true);
    expect(fs.readFileSync(record.trashPath!).equals(bytes)).toBe(true);
    await trasher.restore(record);
    expect(fs.readFileSync(file!).equals(bytes)).toBe(true);
    expect(fs.existsSync(record.trashPath!)).toBe(false);
    expect(fs.existsSync(record.infoPath!)).toBe(false);
  });

  it('refuses to restore over a file that took the old place', async () => {
    const [file] = copyInto(photos('CSet14', 2).slice(1), path.join(root, 'again'));
    const trasher = new ElectronTrasher(systemShell, 'linux');
    const record = await trasher.trash(file!);
    fs.writeFileSync(file!, 'newcomer');
    await expect(trasher.restore(record)).rejects.toMatchObject({ kind: 'io' });
    expect(fs.readFileSync(file!, 'utf8')).toBe('newcomer');
  });

  it('reports a failed move and a file that stayed in place', async () => {
    const [file] = copyInto(photos('CSet14', 3).slice(2), path.join(root, 'stuck'));
    const failing = new ElectronTrasher({ trashItem: async () => Promise.reject(new Error('no trash')) }, 'linux');
    await expect(failing.trash(file!)).rejects.toMatchObject({ kind: 'io', message: /no trash/ });
    const ignoring = new ElectronTrasher({ trashItem: async () => undefined }, 'linux');
    await expect(ignoring.trash(file!)).rejects.toMatchObject({ kind: 'io', message: /still in its place/ });
    expect(fs.existsSync(file!)).toBe(true);
    await expect(ignoring.trash(path.join(root, 'stuck'))).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('says why undo is unavailable on macOS and Windows', async () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const trasher = new ElectronTrasher(systemShell, platform);
      expect(trasher.restoreUnsupported).toMatch(/^Undo is not available/);
      await expect(
        trasher.restore({ originalPath: '/x.jpg', trashPath: null, infoPath: null, deletedAt: null }),
      ).rejects.toMatchObject({ kind: 'unsupported' });
    }
  });
});
