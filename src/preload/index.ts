// Sandboxed preload: exposes window.doppel and nothing else. window.doppel holds one function per DoppelApi member,
// plus the desktop extras of src/shared/ipc.ts (DesktopExtras): `on` to subscribe to engine events,
// showInFolder / openPhoto / pickFolder, the file-manager integration's status / install / remove, and
// onFindSimilar for the files the app is asked about on its command line.
// Raw ipcRenderer never reaches the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_MEMBERS, DoppelError, EVENT_NAMES, isDoppelErrorData, type DoppelApi } from '../shared/api.js';
import {
  channelFor,
  EVENT_CHANNEL,
  FIND_SIMILAR_CHANNEL,
  INTEGRATION_CHANNELS,
  PICK_FOLDER_CHANNEL,
  SHELL_CHANNELS,
  type ApiMember,
  type DesktopExtras,
  type FindSimilarRequest,
  type IntegrationOutcome,
  type IntegrationStatus,
  type IpcResult,
} from '../shared/ipc.js';

const EVENTS: ReadonlySet<string> = new Set(EVENT_NAMES);

function unwrap(what: string, result: IpcResult<unknown>): unknown {
  if (result.ok) return result.value;
  // Only the message survives contextBridge; the kind stays on the error for callers inside the preload.
  const error = isDoppelErrorData(result.error) ? result.error : { kind: 'internal' as const, message: 'failed' };
  throw new DoppelError(error.kind, error.message || `${what} failed`);
}

async function invoke(channel: string, ...args: unknown[]): Promise<unknown> {
  return unwrap(channel, (await ipcRenderer.invoke(channel, ...args)) as IpcResult<unknown>);
}

function invoker<K extends ApiMember>(member: K): DoppelApi[K] {
  const channel = channelFor(member);
  const call = (...args: unknown[]): Promise<unknown> => invoke(channel, ...args);
  // The handler for `channel` validates the arguments and answers with DoppelApi[K]'s result type (src/main/ipc.ts).
  return call as DoppelApi[K];
}

function add<K extends ApiMember>(api: Partial<DoppelApi>, member: K): void {
  api[member] = invoker(member);
}

function isFindSimilarRequest(value: unknown): value is FindSimilarRequest {
  const r = value as FindSimilarRequest | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.files) &&
    Array.isArray(r.problems) &&
    r.files.every((f) => typeof f?.name === 'string' && typeof f.path === 'string' && f.bytes instanceof Uint8Array) &&
    r.problems.every((p) => typeof p?.path === 'string' && typeof p.reason === 'string')
  );
}

/**
 * "Find similar" requests from the main process. Subscribed to from the start: the files the app was started with
 * are sent as the page finishes loading, and wait here for the page's first subscriber.
 */
function findSimilarRequests(): DesktopExtras['onFindSimilar'] {
  const waiting: FindSimilarRequest[] = [];
  const listeners = new Set<(request: FindSimilarRequest) => void>();
  ipcRenderer.on(FIND_SIMILAR_CHANNEL, (_e: IpcRendererEvent, request: unknown) => {
    if (!isFindSimilarRequest(request)) return;
    if (listeners.size === 0) waiting.push(request);
    for (const listener of listeners) listener(request);
  });
  return (listener) => {
    listeners.add(listener);
    for (const request of waiting.splice(0)) listener(request);
    return () => void listeners.delete(listener);
  };
}

function createExtras(): DesktopExtras {
  return {
    on(event, listener) {
      if (!EVENTS.has(event)) throw new DoppelError('invalid-argument', `No event named ${String(event)}`);
      const handler = (_e: IpcRendererEvent, name: unknown, payload: unknown): void => {
        if (name === event) (listener as (payload: unknown) => void)(payload);
      };
      ipcRenderer.on(EVENT_CHANNEL, handler);
      return () => void ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    },
    showInFolder: async (photoId) => void (await invoke(SHELL_CHANNELS.showInFolder, photoId)),
    openPhoto: async (photoId) => void (await invoke(SHELL_CHANNELS.open, photoId)),
    pickFolder: async () => (await invoke(PICK_FOLDER_CHANNEL)) as string | null,
    integrationStatus: async () => (await invoke(INTEGRATION_CHANNELS.status)) as IntegrationStatus,
    installIntegration: async () => (await invoke(INTEGRATION_CHANNELS.install)) as IntegrationOutcome,
    removeIntegration: async () => (await invoke(INTEGRATION_CHANNELS.remove)) as IntegrationOutcome,
    onFindSimilar: findSimilarRequests(),
  };
}

function createApi(): DoppelApi & DesktopExtras {
  const api: Partial<DoppelApi> = {};
  for (const member of API_MEMBERS) add(api, member);
  // Complete: API_MEMBERS lists every member of DoppelApi (API_MEMBERS_ARE_COMPLETE in src/shared/ipc.ts).
  return Object.freeze({ ...(api as DoppelApi), ...createExtras() });
}

contextBridge.exposeInMainWorld('doppel', createApi());
