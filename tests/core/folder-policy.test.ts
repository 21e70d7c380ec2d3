// Library folders are a user's photo folders: the disk's root, system folders and pseudo-filesystems are refused
// with a reason, also through a link to one, and a relative path is refused (the service has no base for it).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderProblem } from '../../src/core/library/folder-policy.js';
import { DoppelService } from '../../src/core/service.js';
import { REPO, tempDir } from '../helpers.js';

let dir: string;
let service: DoppelService;

beforeAll(async () => {
  dir = tempDir('doppel-policy-');
  service = await DoppelService.open({
    dbPath: path.join(dir, 'library.sqlite'),
    modelsDir: path.join(REPO, 'models'),
  });
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('library folder policy', () => {
  it.each([
    ['/', /root of the disk/],
    ['/proc', /system folder \(\/proc\)/],
    ['/sys/kernel', /system folder \(\/sys\)/],
    ['/dev', /system folder \(\/dev\)/],
    ['/etc', /system folder \(\/etc\)/],
    ['.', /relative path/],
    ['photos', /relative path/],
  ])('refuses %s', async (folder, reason) => {
    await expect(service.addFolder(folder)).rejects.toMatchObject({ kind: 'invalid-argument', message: reason });
    expect(await service.listFolders()).toEqual([]);
  });

  it('refuses a link to a system folder, and adds a photo folder', async () => {
    const link = path.join(dir, 'looks-harmless');
    fs.symlinkSync('/etc', link);
    await expect(service.addFolder(link)).rejects.toThrow(/system folder \(\/etc\)/);
    const photos = path.join(dir, 'Pictures');
    fs.mkdirSync(photos);
    const added = await service.addFolder(photos);
    expect(added.path).toBe(fs.realpathSync(photos));
  });

  it('knows the system folders of Windows and macOS', () => {
    expect(folderProblem('C:\\', 'win32')).toMatch(/root of the disk/);
    expect(folderProblem('C:\\Windows\\System32', 'win32')).toMatch(/system folder/);
    expect(folderProblem('c:\\program files\\App', 'win32')).toMatch(/system folder/);
    expect(folderProblem('D:\\Photos', 'win32')).toBeNull();
    expect(folderProblem('/System/Library', 'darwin')).toMatch(/system folder/);
    expect(folderProblem('/Users/me/Pictures', 'darwin')).toBeNull();
    expect(folderProblem('/usr/share/backgrounds', 'linux')).toBeNull();
    expect(folderProblem('/etcetera', 'linux')).toBeNull();
  });
});
