// The preload against a fake electron module: window.doppel gets one function per API member, nothing else,
// each invoking its own channel and unwrapping the IpcResult.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { API_MEMBERS, type DoppelApi } from '../src/shared/api.js';
import {
  DESKTOP_EXTRAS,
  EVENT_CHANNEL,
  FIND_SIMILAR_CHANNEL,
  INTEGRATION_CHANNELS,
  PICK_FOLDER_CHANNEL,
  SHELL_CHANNELS,
  type DesktopExtras,
  type FindSimilarRequest,
  type IpcResult,
} from '../src/shared/ipc.js';

type Handler = (event: unknown, ...args: unknown[]) => void;

const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: vi.fn<(channel: string, ...args: unknown[]) => Promise<IpcResult<unknown>>>(),
  listeners: new Map<string, Set<Handler>>(),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api),
  },
  ipcRenderer: {
    invoke: electron.invoke,
    on: (channel: string, handler: Handler) => {
      if (!electron.listeners.has(channel)) electron.listeners.set(channel, new Set());
      electron.listeners.get(channel)!.add(handler);
    },
    removeListener: (channel: string, handler: Handler) => electron.listeners.get(channel)?.delete(handler),
  },
}));

async function loadPreload(): Promise<DoppelApi & DesktopExtras> {
  vi.resetModules();
  electron.exposed.clear();
  electron.listeners.clear();
  await import('../src/preload/index.js');
  return electron.exposed.get('doppel') as DoppelApi & DesktopExtras;
}

describe('preload', () => {
  beforeEach(() => electron.invoke.mockReset());

  it('exposes only window.doppel: one function per API member and the desktop extras', async () => {
    const api = await loadPreload();
    expect([...electron.exposed.keys()]).toEqual(['doppel']);
    expect(Object.keys(api).sort()).toEqual([...API_MEMBERS, ...DESKTOP_EXTRAS].sort());
    for (const member of [...API_MEMBERS, ...DESKTOP_EXTRAS]) expect(typeof api[member]).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('invokes the member channel with the arguments and returns the value', async () => {
    const api = await loadPreload();
    electron.invoke.mockResolvedValue({ ok: true, value: [] });
    await expect(api.similarToPhoto(7, 5)).resolves.toEqual([]);
    expect(electron.invoke).toHaveBeenCalledWith('doppel:similarToPhoto', 7, 5);
  });

  it('throws an error carrying the message when the main process answers with an error', async () => {
    const api = await loadPreload();
    electron.invoke.mockResolvedValue({ ok: false, error: { kind: 'not-found', message: 'no photo 9' } });
    await expect(api.reconstructPhoto(9)).rejects.toThrow('no photo 9');
  });

  it('delivers engine events to subscribers of that event only, until they unsubscribe', async () => {
    const api = await loadPreload();
    const progress: unknown[] = [];
    const changed: unknown[] = [];
    const off = api.on('progress', (p) => progress.push(p));
    api.on('libraryChanged', (c) => changed.push(c));
    const emit = (name: string, payload: unknown): void => {
      for (const handler of electron.listeners.get(EVENT_CHANNEL) ?? []) handler({}, name, payload);
    };
    emit('progress', { done: 1 });
    emit('libraryChanged', { added: 1, updated: 0, removed: 0 });
    off();
    emit('progress', { done: 2 });
    expect(progress).toEqual([{ done: 1 }]);
    expect(changed).toEqual([{ added: 1, updated: 0, removed: 0 }]);
    expect(() => api.on('nope' as 'progress', () => {})).toThrow(/No event/);
  });

  it('asks the main process for the desktop actions on their own channels', async () => {
    const api = await loadPreload();
    electron.invoke.mockResolvedValue({ ok: true, value: null });
    await api.showInFolder(4);
    await api.openPhoto(5);
    electron.invoke.mockResolvedValue({ ok: true, value: '/home/me/Pictures' });
    await expect(api.pickFolder()).resolves.toBe('/home/me/Pictures');
    expect(electron.invoke.mock.calls).toEqual([
      [SHELL_CHANNELS.showInFolder, 4],
      [SHELL_CHANNELS.open, 5],
      [PICK_FOLDER_CHANNEL],
    ]);
    electron.invoke.mockResolvedValue({ ok: false, error: { kind: 'not-found', message: 'no photo 6' } });
    await expect(api.openPhoto(6)).rejects.toThrow('no photo 6');
  });

  it('asks the main process for the file-manager integration on its channels, errors with their message', async () => {
    const api = await loadPreload();
    const status = { by: 'app', installed: true, command: '/opt/Doppel/doppel --find-similar', what: 'the app' };
    electron.invoke.mockResolvedValue({ ok: true, value: status });
    await expect(api.integrationStatus()).resolves.toEqual(status);
    electron.invoke.mockResolvedValue({ ok: true, value: { status, done: ['Nemo: /x'], warnings: [] } });
    await expect(api.installIntegration()).resolves.toEqual({ status, done: ['Nemo: /x'], warnings: [] });
    electron.invoke.mockResolvedValue({ ok: false, error: { kind: 'unsupported', message: 'The installer does' } });
    await expect(api.removeIntegration()).rejects.toThrow('The installer does');
    expect(electron.invoke.mock.calls).toEqual([
      [INTEGRATION_CHANNELS.status],
      [INTEGRATION_CHANNELS.install],
      [INTEGRATION_CHANNELS.remove],
    ]);
  });

  it('keeps a find-similar request sent before the page subscribed for its first listener, then delivers each', async () => {
    const api = await loadPreload();
    const send = (request: unknown): void => {
      for (const handler of electron.listeners.get(FIND_SIMILAR_CHANNEL) ?? []) handler({}, request);
    };
    const early: FindSimilarRequest = {
      files: [{ name: 'IMG 1.jpg', path: '/p/été/IMG 1.jpg', bytes: new Uint8Array([1, 2]) }],
      problems: [{ path: '/p/gone.jpg', reason: 'No such file' }],
    };
    send(early); // the files the app was started with, as the page finishes loading
    send({ files: 'not a request' });
    const got: FindSimilarRequest[] = [];
    const off = api.onFindSimilar((r) => got.push(r));
    expect(got).toEqual([early]);
    const later: FindSimilarRequest = { files: [], problems: [{ path: '/p/x', reason: 'Is a folder' }] };
    send(later);
    expect(got).toEqual([early, later]);
    off();
    send(later);
    expect(got).toHaveLength(2);
  });
});
