// registerIpc under plain Node: a fake ipcMain records the handlers, a fake service records the calls.
import { describe, expect, it, vi } from 'vitest';
import { registerIpc, type InvokeEvent, type IpcMainLike, type SenderFrame } from '../src/main/ipc.js';
import {
  API_MEMBERS,
  DoppelError,
  type DoppelApi,
  type FolderInfo,
  type IndexStatus,
  type LibraryInfo,
  type Settings,
  type SimilarResult,
} from '../src/shared/api.js';
import { channelFor, type IpcResult } from '../src/shared/ipc.js';

type Listener = (event: InvokeEvent, ...args: unknown[]) => Promise<IpcResult<unknown>>;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  invoke(channel: string, event: InvokeEvent, ...args: unknown[]): Promise<IpcResult<unknown>> {
    const listener = this.handlers.get(channel);
    if (!listener) throw new Error(`no handler for ${channel}`);
    return listener(event, ...args);
  }
}

const folder: FolderInfo = {
  id: 1,
  path: '/photos',
  addedAt: 1_700_000_000_000,
  status: 'online',
  reference: false,
  followSymlinks: false,
};
const settings: Settings = {
  nearThreshold: 0.97,
  similarThreshold: 0.9,
  keeperRules: ['resolution', 'file-size'],
  formatPreference: ['png', 'jpeg'],
  preferredFolders: [],
  exclude: [],
  watch: true,
  findCroppedCopies: false,
  cropViewsAvailable: true,
  defaults: { nearThreshold: 0.97, similarThreshold: 0.9 },
  sources: { nearThreshold: 'fallback', similarThreshold: 'fallback' },
};
const idle: IndexStatus = { state: 'idle', progress: null, watching: false };
const info: LibraryInfo = {
  photos: 3,
  errors: 0,
  folders: 1,
  model: { name: 'conv-ae-64', dim: 64, inputSize: 64, backend: 'wasm' },
  dbPath: '/tmp/library.sqlite',
};
const similar: SimilarResult[] = [{ photo: { id: 2, path: '/photos/b.jpg', width: 10, height: 10 }, score: 0.98 }];

/** Implements every member; records each call as [member, ...args]. */
class FakeService implements DoppelApi {
  readonly calls: unknown[][] = [];
  private record(member: keyof DoppelApi, ...args: unknown[]): void {
    this.calls.push([member, ...args]);
  }
  async info() {
    this.record('info');
    return info;
  }
  async listFolders() {
    this.record('listFolders');
    return [folder];
  }
  async addFolder(path: string) {
    this.record('addFolder', path);
    return { ...folder, path };
  }
  async removeFolder(id: number) {
    this.record('removeFolder', id);
    if (id === 404) throw new DoppelError('not-found', 'no folder 404');
  }
  async indexStatus() {
    this.record('indexStatus');
    return idle;
  }
  async pauseIndexing() {
    this.record('pauseIndexing');
    return idle;
  }
  async resumeIndexing() {
    this.record('resumeIndexing');
    return idle;
  }
  async cancelIndexing() {
    this.record('cancelIndexing');
    return idle;
  }
  async indexAll() {
    this.record('indexAll');
    return {
      scanned: 0,
      added: 0,
      updated: 0,
      unchanged: 0,
      removed: 0,
      errors: [],
      offlineFolders: [],
      durationMs: 1,
    };
  }
  async listPhotos(query: Parameters<DoppelApi['listPhotos']>[0]) {
    this.record('listPhotos', query);
    return { total: 0, photos: [] };
  }
  async photoLayout(query: Parameters<DoppelApi['photoLayout']>[0]) {
    this.record('photoLayout', query);
    return { count: 1, ids: new Uint8Array([7, 0, 0, 0]), aspects: new Uint8Array([0x35, 0x05]), sections: [] };
  }
  async getPhotos(ids: number[]) {
    this.record('getPhotos', ids);
    return [];
  }
  async listErrors() {
    this.record('listErrors');
    return [];
  }
  async similarToPhoto(photoId: number, k: number) {
    this.record('similarToPhoto', photoId, k);
    return similar;
  }
  async similarToImage(image: Uint8Array, k: number) {
    this.record('similarToImage', image, k);
    return similar;
  }
  async reconstructPhoto(photoId: number) {
    this.record('reconstructPhoto', photoId);
    if (photoId === 500) throw new Error('tensor shape mismatch');
    return { input: new Uint8Array([1]), output: new Uint8Array([2]), mse: 0.01, codeMaps: [], detailChannels: 0 };
  }
  async findDuplicates(query: Parameters<DoppelApi['findDuplicates']>[0]) {
    this.record('findDuplicates', query);
    return [];
  }
  async exportDuplicates(...args: Parameters<DoppelApi['exportDuplicates']>) {
    this.record('exportDuplicates', ...args);
    return 'group,kind\r\n';
  }
  async setReferenceFolder(folderId: number, reference: boolean) {
    this.record('setReferenceFolder', folderId, reference);
    return { ...folder, id: folderId, reference };
  }
  async markNotDuplicate(a: number, b: number) {
    this.record('markNotDuplicate', a, b);
  }
  async clearNotDuplicate(a: number, b: number) {
    this.record('clearNotDuplicate', a, b);
  }
  async trashPhotos(...args: Parameters<DoppelApi['trashPhotos']>) {
    this.record('trashPhotos', ...args);
    return { actionId: null, dryRun: true, files: [], skipped: [], undoable: true, undoNote: null };
  }
  async undoLastAction() {
    this.record('undoLastAction');
    return { actionId: 1, restored: [], failed: [], reindexed: 0, retried: 0 };
  }
  async getSettings() {
    this.record('getSettings');
    return settings;
  }
  async updateSettings(update: Parameters<DoppelApi['updateSettings']>[0]) {
    this.record('updateSettings', update);
    return settings;
  }
}

const trustedFrame: SenderFrame = { url: 'file:///app/out/renderer/index.html' };
const trusted: InvokeEvent = { senderFrame: trustedFrame };

function setup() {
  const ipcMain = new FakeIpcMain();
  const service = new FakeService();
  registerIpc(ipcMain, service, (frame) => frame === trustedFrame);
  return { ipcMain, service };
}

describe('registerIpc', () => {
  it('registers one doppel:<member> handler for every API member and nothing else', () => {
    const { ipcMain } = setup();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(API_MEMBERS.map((m) => `doppel:${m}`).sort());
    expect(channelFor('similarToPhoto')).toBe('doppel:similarToPhoto');
  });

  it('passes a valid call through to the service and wraps the value', async () => {
    const { ipcMain, service } = setup();
    expect(await ipcMain.invoke('doppel:similarToPhoto', trusted, 7, 5)).toEqual({ ok: true, value: similar });
    expect(await ipcMain.invoke('doppel:addFolder', trusted, '/photos/new')).toEqual({
      ok: true,
      value: { ...folder, path: '/photos/new' },
    });
    expect(await ipcMain.invoke('doppel:info', trusted)).toEqual({ ok: true, value: info });
    expect(service.calls).toEqual([['similarToPhoto', 7, 5], ['addFolder', '/photos/new'], ['info']]);
  });

  it('passes image bytes and query objects through unchanged', async () => {
    const { ipcMain, service } = setup();
    const image = new Uint8Array([0xff, 0xd8, 0xff]);
    expect((await ipcMain.invoke('doppel:similarToImage', trusted, image, 3)).ok).toBe(true);
    expect(await ipcMain.invoke('doppel:listPhotos', trusted, { offset: 0, limit: 50, sort: 'date' })).toEqual({
      ok: true,
      value: { total: 0, photos: [] },
    });
    // The layout's packed arrays come back as the byte arrays they are.
    const layout = await ipcMain.invoke('doppel:photoLayout', trusted, { sort: 'date' });
    expect(layout).toEqual({
      ok: true,
      value: { count: 1, ids: new Uint8Array([7, 0, 0, 0]), aspects: new Uint8Array([0x35, 0x05]), sections: [] },
    });
    expect(service.calls).toEqual([
      ['similarToImage', image, 3],
      ['listPhotos', { offset: 0, limit: 50, sort: 'date' }],
      ['photoLayout', { sort: 'date' }],
    ]);
    expect(service.calls[0]?.[1]).toBe(image);
  });

  it.each([
    ['similarToPhoto', ['x', 5]],
    ['similarToPhoto', [7]],
    ['similarToPhoto', [7, 0]],
    ['similarToPhoto', [1.5, 5]],
    ['addFolder', [42]],
    ['addFolder', ['']],
    ['addFolder', []],
    ['info', ['extra']],
    ['removeFolder', [-1]],
    ['similarToImage', ['not bytes', 5]],
    ['similarToImage', [new Uint8Array(0), 5]],
    ['listPhotos', [{ limit: 'all' }]],
    ['listPhotos', [{ sort: 'size' }]],
    ['listPhotos', [{ unknown: true }]],
    ['photoLayout', [{ sort: 'size' }]],
    ['photoLayout', [{ offset: 0 }]],
    ['photoLayout', []],
    ['getPhotos', [[1, 0]]],
    ['getPhotos', [Array.from({ length: 10_001 }, (_, i) => i + 1)]],
    ['findDuplicates', [{ kinds: ['exact', 'fuzzy'] }]],
    ['findDuplicates', [{ nearThreshold: 2 }]],
    ['exportDuplicates', [{}, 'xml']],
    ['exportDuplicates', [{}]],
    ['setReferenceFolder', [1, 'yes']],
    ['markNotDuplicate', [1]],
    ['markNotDuplicate', [1, -2]],
    ['trashPhotos', [[1, 'two'], {}]],
    ['trashPhotos', [[1], { dryRun: 'no' }]],
    ['trashPhotos', [[1], { force: true }]],
    ['undoLastAction', [1]],
    ['updateSettings', [{ nearThreshold: 1.5 }]],
    ['updateSettings', [{ keeperRules: ['biggest'] }]],
    ['updateSettings', [{ theme: 'dark' }]],
  ] as const)('refuses %s(%j) as invalid-argument without calling the service', async (member, args) => {
    const { ipcMain, service } = setup();
    const result = await ipcMain.invoke(`doppel:${member}`, trusted, ...args);
    expect(result).toEqual({
      ok: false,
      error: { kind: 'invalid-argument', message: expect.stringContaining(member) },
    });
    expect(service.calls).toEqual([]);
  });

  it('passes the duplicate review calls through with their arguments', async () => {
    const { ipcMain, service } = setup();
    const calls: [string, unknown[]][] = [
      ['exportDuplicates', [{ kinds: ['near'] }, 'csv']],
      ['setReferenceFolder', [3, true]],
      ['markNotDuplicate', [4, 5]],
      ['clearNotDuplicate', [4, 5]],
      ['trashPhotos', [[7, 8], { dryRun: true }]],
      ['undoLastAction', []],
      ['getSettings', []],
      ['updateSettings', [{ nearThreshold: 0.99, similarThreshold: null, keeperRules: ['format'] }]],
    ];
    for (const [member, args] of calls) {
      expect((await ipcMain.invoke(`doppel:${member}`, trusted, ...args)).ok).toBe(true);
    }
    expect(service.calls).toEqual(calls.map(([member, args]) => [member, ...args]));
  });

  it('refuses a call from a foreign sender without calling the service', async () => {
    const { ipcMain, service } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const senderFrame of [{ url: 'https://evil.example/' }, null]) {
      const result = await ipcMain.invoke('doppel:listFolders', { senderFrame });
      expect(result).toEqual({
        ok: false,
        error: { kind: 'invalid-argument', message: expect.stringMatching(/sender/) },
      });
    }
    expect(service.calls).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('returns a DoppelError from the service as data with its kind', async () => {
    const { ipcMain } = setup();
    expect(await ipcMain.invoke('doppel:removeFolder', trusted, 404)).toEqual({
      ok: false,
      error: { kind: 'not-found', message: 'no folder 404' },
    });
  });

  it('returns any other failure as an internal error with its message', async () => {
    const { ipcMain } = setup();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await ipcMain.invoke('doppel:reconstructPhoto', trusted, 500)).toEqual({
      ok: false,
      error: { kind: 'internal', message: 'tensor shape mismatch' },
    });
    expect(logged).toHaveBeenCalledWith('doppel: reconstructPhoto failed', new Error('tensor shape mismatch'));
    logged.mockRestore();
  });
});
