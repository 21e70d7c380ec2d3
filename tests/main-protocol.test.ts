// The doppel:// media protocol and the desktop actions under plain Node, on real temporary files and symlinks:
// only thumbnails and originals of library photos, by id; no `..`, no paths outside the library, no links out.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { confinePath, resolveMedia, type MediaLibrary } from '../src/core/media.js';
import { thumbnailPath } from '../src/core/library/thumbnails.js';
import { registerDesktopIpc } from '../src/main/desktop.js';
import type { InvokeEvent, IpcMainLike } from '../src/main/ipc.js';
import { createMediaHandler, parseMediaUrl, resolveMediaUrl } from '../src/main/protocol.js';
import type { FolderInfo, PhotoInfo } from '../src/shared/api.js';
import { INTEGRATION_CHANNELS, PICK_FOLDER_CHANNEL, SHELL_CHANNELS, type IpcResult } from '../src/shared/ipc.js';
import { tempDir } from './helpers.js';

let root: string;
let lib: string;
let outside: string;
let thumbs: string;
let library: MediaLibrary;

const HASH = 'ab'.repeat(32);

function photo(id: number, file: string, hash: string | null = null): PhotoInfo {
  return {
    id,
    folderId: 1,
    path: file,
    size: 1,
    mtimeMs: 0,
    hash,
    width: 1,
    height: 1,
    format: 'jpeg',
    takenAt: null,
    orientation: null,
    status: 'indexed',
    error: null,
  };
}

beforeAll(() => {
  root = tempDir('doppel-protocol-');
  lib = path.join(root, 'library');
  outside = path.join(root, 'outside');
  thumbs = path.join(root, 'thumbnails');
  fs.mkdirSync(path.join(lib, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(lib, 'a.jpg'), 'photo a');
  fs.writeFileSync(path.join(lib, 'sub', 'b.png'), 'photo b');
  fs.writeFileSync(path.join(outside, 'secret.jpg'), 'secret');
  fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(lib, 'link-out.jpg'));
  fs.symlinkSync(outside, path.join(lib, 'dir-out'));
  fs.symlinkSync(path.join(lib, 'a.jpg'), path.join(lib, 'link-in.jpg'));
  // A WebP thumbnail, as libraries indexed before thumbnails were JPEG have them.
  const thumb = thumbnailPath(thumbs, HASH, '.webp');
  fs.mkdirSync(path.dirname(thumb), { recursive: true });
  fs.writeFileSync(thumb, 'webp bytes');
  const folder: FolderInfo = {
    id: 1,
    path: lib,
    addedAt: 0,
    status: 'online',
    reference: false,
    followSymlinks: false,
  };
  // A library whose rows point inside and (as a corrupted or hostile row would) outside the folder.
  const photos = new Map<number, PhotoInfo>([
    [1, photo(1, path.join(lib, 'a.jpg'), HASH)],
    [2, photo(2, path.join(lib, 'sub', 'b.png'))],
    [3, photo(3, path.join(lib, 'link-out.jpg'))],
    [4, photo(4, path.join(lib, 'dir-out', 'secret.jpg'))],
    [5, photo(5, path.join(lib, '..', 'outside', 'secret.jpg'))],
    [6, photo(6, path.join(outside, 'secret.jpg'))],
    [7, photo(7, path.join(lib, 'link-in.jpg'))],
  ]);
  library = {
    getPhoto: (id) => photos.get(id) ?? null,
    getFolder: (id) => (id === 1 ? folder : null),
    thumbnailDir: thumbs,
  };
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('confinePath', () => {
  it('accepts files inside a root, through links that stay inside', () => {
    expect(confinePath(path.join(lib, 'a.jpg'), [lib])).toBe(fs.realpathSync(path.join(lib, 'a.jpg')));
    expect(confinePath(path.join(lib, 'sub', 'b.png'), [lib])).toBe(fs.realpathSync(path.join(lib, 'sub', 'b.png')));
    expect(confinePath(path.join(lib, 'link-in.jpg'), [lib])).toBe(fs.realpathSync(path.join(lib, 'a.jpg')));
  });

  it('refuses ../ traversal, even when it would land inside again', () => {
    expect(confinePath(`${lib}/../outside/secret.jpg`, [lib])).toBeNull();
    expect(confinePath(`${lib}/sub/../a.jpg`, [lib])).toBeNull();
    expect(confinePath(`${lib}/sub/..\\..\\outside/secret.jpg`, [lib])).toBeNull();
  });

  it('refuses absolute paths outside the library and relative paths', () => {
    expect(confinePath(path.join(outside, 'secret.jpg'), [lib])).toBeNull();
    expect(confinePath('/etc/passwd', [lib])).toBeNull();
    expect(confinePath('a.jpg', [lib])).toBeNull();
    expect(confinePath(`${lib}-evil/a.jpg`, [lib])).toBeNull(); // a sibling whose name starts like the root
    expect(confinePath(`${lib}/a.jpg\0`, [lib])).toBeNull();
  });

  it('refuses symlinks pointing out, to a file or through a folder', () => {
    expect(fs.existsSync(path.join(lib, 'link-out.jpg'))).toBe(true);
    expect(confinePath(path.join(lib, 'link-out.jpg'), [lib])).toBeNull();
    expect(confinePath(path.join(lib, 'dir-out', 'secret.jpg'), [lib])).toBeNull();
  });

  it('refuses folders and missing files', () => {
    expect(confinePath(path.join(lib, 'sub'), [lib])).toBeNull();
    expect(confinePath(path.join(lib, 'gone.jpg'), [lib])).toBeNull();
  });
});

describe('parseMediaUrl', () => {
  it('reads doppel://thumb/<id> and doppel://original/<id>', () => {
    expect(parseMediaUrl('doppel://thumb/1')).toEqual({ kind: 'thumb', id: 1 });
    expect(parseMediaUrl('doppel://original/42')).toEqual({ kind: 'original', id: 42 });
  });

  it('refuses paths, traversal, escapes, queries and other schemes', () => {
    for (const url of [
      'doppel://original/../../etc/passwd',
      'doppel://original/%2E%2E%2Fetc%2Fpasswd',
      'doppel://original//etc/passwd',
      'doppel://original/1/2',
      'doppel://original/1?x=1',
      'doppel://original/1#x',
      'doppel://original/0',
      'doppel://original/-1',
      'doppel://original/1e3',
      'doppel://file/1',
      'doppel:///etc/passwd',
      'file:///etc/passwd',
      'https://thumb/1',
      'not a url',
    ]) {
      expect(parseMediaUrl(url), url).toBeNull();
    }
  });
});

/** The device and inode of a file, as media resolution reports the file it checked. */
const identityOf = (file: string) => {
  const st = fs.statSync(file);
  return { dev: st.dev, ino: st.ino };
};

describe('media resolution', () => {
  it('serves the thumbnail and the original of a library photo', () => {
    expect(resolveMediaUrl(library, 'doppel://thumb/1')).toEqual({
      path: fs.realpathSync(thumbnailPath(thumbs, HASH, '.webp')),
      contentType: 'image/webp',
      identity: identityOf(thumbnailPath(thumbs, HASH, '.webp')),
    });
    expect(resolveMediaUrl(library, 'doppel://original/2')).toEqual({
      path: fs.realpathSync(path.join(lib, 'sub', 'b.png')),
      contentType: 'image/png',
      identity: identityOf(path.join(lib, 'sub', 'b.png')),
    });
    expect(resolveMediaUrl(library, 'doppel://original/7')?.path).toBe(fs.realpathSync(path.join(lib, 'a.jpg')));
  });

  it('serves the JPEG thumbnail that indexing now writes, before an older WebP one', () => {
    const jpeg = thumbnailPath(thumbs, HASH);
    expect(path.extname(jpeg)).toBe('.jpg');
    fs.writeFileSync(jpeg, 'jpeg bytes');
    try {
      expect(resolveMediaUrl(library, 'doppel://thumb/1')).toEqual({
        path: fs.realpathSync(jpeg),
        contentType: 'image/jpeg',
        identity: identityOf(jpeg),
      });
    } finally {
      fs.rmSync(jpeg);
    }
  });

  it('refuses ids not in the library, photos without a thumbnail, and rows pointing out of their folder', () => {
    expect(resolveMedia(library, 'original', 99)).toBeNull();
    expect(resolveMedia(library, 'thumb', 2)).toBeNull(); // no content hash, no thumbnail
    for (const id of [3, 4, 5, 6]) expect(resolveMedia(library, 'original', id), `photo ${id}`).toBeNull();
  });

  it('answers with the bytes, or 404', async () => {
    const handler = createMediaHandler(library);
    const ok = await handler({ url: 'doppel://original/1' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
    expect(await ok.text()).toBe('photo a');
    for (const url of ['doppel://original/3', 'doppel://original/../../outside/secret.jpg', 'doppel://thumb/99']) {
      const res = await handler({ url });
      expect(res.status, url).toBe(404);
      expect(await res.text()).not.toContain('secret');
    }
  });
});

describe('desktop actions over IPC', () => {
  type Listener = (event: InvokeEvent, ...args: unknown[]) => Promise<IpcResult<unknown>>;
  function setup() {
    const handlers = new Map<string, Listener>();
    const ipcMain: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener) };
    const shell = { showItemInFolder: vi.fn(), openPath: vi.fn(async () => '') };
    const pickFolder = vi.fn(async () => lib);
    const trusted = { url: 'file:///app/index.html' };
    // The integration's handlers: tests/main-integrate.test.ts.
    const integration = {
      platform: 'win32' as const,
      dirs: () => ({ data: root, config: root }),
      target: () => ({ command: ['/opt/Doppel/doppel', '--find-similar'], what: 'the app' }),
      who: 'the app',
    };
    registerDesktopIpc(ipcMain, { media: library, shell, pickFolder, integration }, (frame) => frame === trusted);
    const invoke = (channel: string, event: InvokeEvent, ...args: unknown[]) => handlers.get(channel)!(event, ...args);
    return { handlers, shell, pickFolder, invoke, trusted: { senderFrame: trusted } };
  }

  it('shows and opens the original of a library photo, and picks folders', async () => {
    const { invoke, shell, trusted, handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(
      [
        SHELL_CHANNELS.showInFolder,
        SHELL_CHANNELS.open,
        PICK_FOLDER_CHANNEL,
        ...Object.values(INTEGRATION_CHANNELS),
      ].sort(),
    );
    expect(await invoke(SHELL_CHANNELS.showInFolder, trusted, 1)).toEqual({ ok: true, value: null });
    expect(shell.showItemInFolder).toHaveBeenCalledWith(fs.realpathSync(path.join(lib, 'a.jpg')));
    expect(await invoke(SHELL_CHANNELS.open, trusted, 2)).toEqual({ ok: true, value: null });
    expect(shell.openPath).toHaveBeenCalledWith(fs.realpathSync(path.join(lib, 'sub', 'b.png')));
    expect(await invoke(PICK_FOLDER_CHANNEL, trusted)).toEqual({ ok: true, value: lib });
  });

  it('refuses foreign senders, invalid ids and photos outside the library', async () => {
    const { invoke, shell, trusted } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const foreign = await invoke(SHELL_CHANNELS.open, { senderFrame: { url: 'https://evil.example/' } }, 1);
    expect(foreign).toMatchObject({ ok: false, error: { kind: 'invalid-argument', message: /sender/ } });
    warn.mockRestore();
    for (const args of [['1'], [0], [1.5], ['/etc/passwd'], [1, 2], []]) {
      const result = await invoke(SHELL_CHANNELS.open, trusted, ...args);
      expect(result, JSON.stringify(args)).toMatchObject({ ok: false, error: { kind: 'invalid-argument' } });
    }
    expect(await invoke(SHELL_CHANNELS.showInFolder, trusted, 3)).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
    expect(shell.openPath).not.toHaveBeenCalled();
    expect(shell.showItemInFolder).not.toHaveBeenCalled();
  });
});
