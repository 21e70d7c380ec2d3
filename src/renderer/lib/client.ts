// The renderer's one way out: window.doppel in the desktop app, the loopback bridge (`doppel serve`) in a browser.
import { DoppelError, isDoppelErrorData, type DoppelApi, type DoppelEvents } from '../../shared/api.js';
import type { IpcResult } from '../../shared/ipc.js';
import { fromWire, toWire } from '../../shared/wire.js';

export type { MediaKind } from '../../shared/api.js';
import type { MediaKind } from '../../shared/api.js';
type Listener<K extends keyof DoppelEvents> = (payload: DoppelEvents[K]) => void;

export interface Client {
  readonly kind: 'desktop' | 'browser';
  readonly api: DoppelApi;
  on<K extends keyof DoppelEvents>(event: K, listener: Listener<K>): () => void;
  /** A URL an <img> can load: a library photo's thumbnail or original. */
  mediaUrl(kind: MediaKind, photoId: number): string;
  /** Desktop-only actions; null in a browser, with `desktopOnly` saying why. */
  readonly showInFolder: ((photoId: number) => Promise<void>) | null;
  readonly openPhoto: ((photoId: number) => Promise<void>) | null;
  readonly pickFolder: (() => Promise<string | null>) | null;
  readonly desktopOnly: string;
}

const DESKTOP_ONLY = 'Available in the desktop app: a browser page cannot open files or folders on this computer.';

function desktopClient(doppel: NonNullable<Window['doppel']>): Client {
  return {
    kind: 'desktop',
    api: doppel,
    on: (event, listener) => doppel.on(event, listener),
    mediaUrl: (kind, id) => `doppel://${kind}/${id}`,
    showInFolder: (id) => doppel.showInFolder(id),
    openPhoto: (id) => doppel.openPhoto(id),
    pickFolder: () => doppel.pickFolder(),
    desktopOnly: DESKTOP_ONLY,
  };
}

function browserClient(): Client {
  // The page lives at http://127.0.0.1:PORT/<token>/: every bridge URL is relative to it.
  const base = new URL('./', window.location.href);
  const url = (route: string): string => new URL(route, base).href;

  const api = new Proxy({} as DoppelApi, {
    get(_target, member) {
      if (typeof member !== 'string') return undefined;
      return async (...args: unknown[]) => {
        const res = await fetch(url(`api/${member}`), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(toWire(args)),
        });
        if (!res.ok)
          throw new DoppelError('internal', `${member}: the bridge answered ${res.status} ${await res.text()}`);
        const result = fromWire(await res.json()) as IpcResult<unknown>;
        if (result.ok) return result.value;
        const error = isDoppelErrorData(result.error) ? result.error : { kind: 'internal' as const, message: 'failed' };
        throw new DoppelError(error.kind, error.message);
      };
    },
  });

  let source: EventSource | null = null;
  const listeners = new Map<string, Set<(payload: never) => void>>();
  function ensureSource(event: string): void {
    if (!source) source = new EventSource(url('events'));
    if (listeners.has(event)) return;
    listeners.set(event, new Set());
    source.addEventListener(event, (message) => {
      const payload = JSON.parse((message as MessageEvent<string>).data) as never;
      for (const listener of listeners.get(event) ?? []) listener(payload);
    });
  }

  return {
    kind: 'browser',
    api,
    on(event, listener) {
      ensureSource(event);
      const set = listeners.get(event)!;
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    mediaUrl: (kind, id) => url(`media/${kind}/${id}`),
    showInFolder: null,
    openPhoto: null,
    pickFolder: null,
    desktopOnly: DESKTOP_ONLY,
  };
}

export function createClient(): Client {
  return window.doppel ? desktopClient(window.doppel) : browserClient();
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
