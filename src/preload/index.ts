// Sandboxed preload: exposes window.doppel, one function per DoppelApi member, and nothing else.
// Raw ipcRenderer never reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { API_MEMBERS, DoppelError, isDoppelErrorData, type DoppelApi } from '../shared/api.js';
import { channelFor, type ApiMember, type IpcResult } from '../shared/ipc.js';

function unwrap(member: ApiMember, result: IpcResult<unknown>): unknown {
  if (result.ok) return result.value;
  // Only the message survives contextBridge; the kind stays on the error for callers inside the preload.
  const error = isDoppelErrorData(result.error) ? result.error : { kind: 'internal' as const, message: 'failed' };
  throw new DoppelError(error.kind, error.message || `${member} failed`);
}

function invoker<K extends ApiMember>(member: K): DoppelApi[K] {
  const channel = channelFor(member);
  const call = async (...args: unknown[]): Promise<unknown> =>
    unwrap(member, (await ipcRenderer.invoke(channel, ...args)) as IpcResult<unknown>);
  // The handler for `channel` validates the arguments and answers with DoppelApi[K]'s result type (src/main/ipc.ts).
  return call as DoppelApi[K];
}

function add<K extends ApiMember>(api: Partial<DoppelApi>, member: K): void {
  api[member] = invoker(member);
}

function createApi(): DoppelApi {
  const api: Partial<DoppelApi> = {};
  for (const member of API_MEMBERS) add(api, member);
  // Complete: API_MEMBERS lists every member of DoppelApi (API_MEMBERS_ARE_COMPLETE in src/shared/ipc.ts).
  return Object.freeze(api as DoppelApi);
}

contextBridge.exposeInMainWorld('doppel', createApi());
