// The renderer's one way out: window.doppel in the desktop app, the loopback bridge (`doppel serve`) in a browser.
import { DoppelError, isDoppelErrorData, type DoppelApi, type DoppelEvents } from '../../shared/api.js';
import type { FindSimilarRequest, IntegrationOutcome, IntegrationStatus, IpcResult } from '../../shared/ipc.js';
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
  /**
   * "Find similar" for files named outside the page: on the desktop app's command line (`Doppel --find-similar`,
   * a file manager's "Find similar photos"), or to `doppel find-similar` for its page. Returns the unsubscribe.
   */
  onFindSimilar(listener: (request: FindSimilarRequest) => void): () => void;
  /** Desktop-only actions; null in a browser, with `desktopOnly` saying why. */
  readonly showInFolder: ((photoId: number) => Promise<void>) | null;
  readonly openPhoto: ((photoId: number) => Promise<void>) | null;
  readonly pickFolder: (() => Promise<string | null>) | null;
  /** "Find similar photos" in the file managers' menus (Settings' switch); null in a browser, where it is hidden. */
  readonly integration: Integration | null;
  readonly desktopOnly: string;
}

export interface Integration {
  status(): Promise<IntegrationStatus>;
  install(): Promise<IntegrationOutcome>;
  remove(): Promise<IntegrationOutcome>;
}

const DESKTOP_ONLY = 'Available in the desktop app: a browser page cannot open files or folders on this computer.';

function desktopClient(doppel: NonNullable<Window['doppel']>): Client {
  return {
    kind: 'desktop',
    api: doppel,
    on: (event, listener) => doppel.on(event, listener),
    mediaUrl: (kind, id) => `doppel://${kind}/${id}`,
    onFindSimilar: (listener) => doppel.onFindSimilar(listener),
    showInFolder: (id) => doppel.showInFolder(id),
    openPhoto: (id) => doppel.openPhoto(id),
    pickFolder: () => doppel.pickFolder(),
    integration: {
      status: () => doppel.integrationStatus(),
      install: () => doppel.installIntegration(),
      remove: () => doppel.removeIntegration(),
    },
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

  // The files `doppel find-similar` was started with, asked for once (a plain `doppel serve` has none).
  let findSimilar: Promise<FindSimilarRequest | null> | null = null;
  function askFindSimilar(): Promise<FindSimilarRequest | null> {
    findSimilar ??= fetch(url('find-similar')).then(
      async (res) => (res.ok ? (fromWire(await res.json()) as FindSimilarRequest) : null),
      () => null,
    );
    return findSimilar;
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
    onFindSimilar(listener) {
      let subscribed = true;
      void askFindSimilar().then((request) => {
        if (subscribed && request && (request.files.length > 0 || request.problems.length > 0)) listener(request);
      });
      return () => void (subscribed = false);
    },
    showInFolder: null,
    openPhoto: null,
    pickFolder: null,
    integration: null,
    desktopOnly: DESKTOP_ONLY,
  };
}

export function createClient(): Client {
  return window.doppel ? desktopClient(window.doppel) : browserClient();
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
