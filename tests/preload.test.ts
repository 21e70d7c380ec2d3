// The preload against a fake electron module: window.doppel gets one function per API member, nothing else,
// each invoking its own channel and unwrapping the IpcResult.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { API_MEMBERS, type DoppelApi } from '../src/shared/api.js';
import type { IpcResult } from '../src/shared/ipc.js';

const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: vi.fn<(channel: string, ...args: unknown[]) => Promise<IpcResult<unknown>>>(),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api),
  },
  ipcRenderer: { invoke: electron.invoke },
}));

async function loadPreload(): Promise<DoppelApi> {
  vi.resetModules();
  electron.exposed.clear();
  await import('../src/preload/index.js');
  return electron.exposed.get('doppel') as DoppelApi;
}

describe('preload', () => {
  beforeEach(() => electron.invoke.mockReset());

  it('exposes only window.doppel, with exactly one function per API member', async () => {
    const api = await loadPreload();
    expect([...electron.exposed.keys()]).toEqual(['doppel']);
    expect(Object.keys(api).sort()).toEqual([...API_MEMBERS].sort());
    for (const member of API_MEMBERS) expect(typeof api[member]).toBe('function');
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
});
