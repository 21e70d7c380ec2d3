// How DoppelApi travels over Electron IPC: one channel per member, results as data.
// Pure TypeScript: imports only from src/shared.
import { API_MEMBERS, type DoppelApi, type DoppelErrorData, type DoppelEvents } from './api.js';

export type ApiMember = (typeof API_MEMBERS)[number];

/** What every `doppel:<member>` handler resolves to; errors never reject the invoke. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: DoppelErrorData };

export const CHANNEL_PREFIX = 'doppel:';

export type Channel<M extends ApiMember = ApiMember> = `${typeof CHANNEL_PREFIX}${M}`;

export function channelFor<M extends ApiMember>(member: M): Channel<M> {
  return `${CHANNEL_PREFIX}${member}`;
}

type Unlisted = Exclude<keyof DoppelApi, ApiMember>;
/**
 * Fails typecheck, naming the member, when DoppelApi gains a member that API_MEMBERS does not list: the preload
 * builds window.doppel from API_MEMBERS, so an unlisted member would silently be missing there.
 */
export const API_MEMBERS_ARE_COMPLETE: [Unlisted] extends [never] ? true : Unlisted = true;

/** The channel on which the main process sends DoppelEvents to the window: (name, payload). */
export const EVENT_CHANNEL = 'doppel-event';
/** Desktop-only actions on a library photo, by id (the main process looks the path up). */
export const SHELL_CHANNELS = { showInFolder: 'doppel-shell:showInFolder', open: 'doppel-shell:open' } as const;
/** Opens the system's folder picker; resolves to the chosen folder, or null. */
export const PICK_FOLDER_CHANNEL = 'doppel-shell:pickFolder';
/** "Find similar photos" in the file managers' menus (Settings): what is installed, install, remove. */
export const INTEGRATION_CHANNELS = {
  status: 'doppel-shell:integrationStatus',
  install: 'doppel-shell:installIntegration',
  remove: 'doppel-shell:removeIntegration',
} as const;

/** One file-manager entry of the integration: which file manager reads it, where, and whether it is there. */
export interface IntegrationEntry {
  for: string;
  path: string;
  state: 'installed' | 'changed' | 'missing' | 'not installed';
}

/** Where the file managers' "Find similar photos" stands on this computer. */
export interface IntegrationStatus {
  /**
   * Who puts the entries there: 'app' (Linux: the app installs and removes them, as `doppel integrate` does),
   * 'installer' (Windows, macOS: the installer carries them), null (no file manager Doppel knows on this platform).
   */
  by: 'app' | 'installer' | null;
  installed: boolean;
  /** What the entries run before the files (installed), or would run once installed, quoted for a person to read. */
  command: string | null;
  /** What that command is (the app, or the CLI's `doppel find-similar`). */
  what: string | null;
  /** Each entry (Linux); empty elsewhere. */
  entries: IntegrationEntry[];
  /** Where `by` is not 'app': what the installer provides, and that the app installs nothing here. */
  note: string | null;
}

/** What installing or removing the integration did, and where it stands after. */
export interface IntegrationOutcome {
  status: IntegrationStatus;
  /** What was done, one line each. */
  done: string[];
  /** What was not done, and why (a file that is not Doppel's, an uca.xml that cannot be parsed). */
  warnings: string[];
}
/**
 * The main process tells the window to show the Similar view for files named on the command line
 * (`Doppel --find-similar <file...>`, from a file manager's "Find similar photos"): one FindSimilarRequest.
 */
export const FIND_SIMILAR_CHANNEL = 'doppel-find-similar';

/** A file named on the command line for "find similar", read by the main process (or `doppel find-similar`). */
export interface NamedImage {
  /** The file's name, without its folder. */
  name: string;
  /** Its absolute path, as it was named. */
  path: string;
  bytes: Uint8Array;
}

/** What "find similar to these files" hands the window: the files read, and why the others could not be. */
export interface FindSimilarRequest {
  files: NamedImage[];
  problems: { path: string; reason: string }[];
}

/** What the desktop preload adds to window.doppel beside the DoppelApi members. */
export interface DesktopExtras {
  /** Subscribes to an engine event; returns the unsubscribe function. */
  on<K extends keyof DoppelEvents>(event: K, listener: (payload: DoppelEvents[K]) => void): () => void;
  showInFolder(photoId: number): Promise<void>;
  openPhoto(photoId: number): Promise<void>;
  pickFolder(): Promise<string | null>;
  /** "Find similar photos" in the file managers' menus: where it stands. */
  integrationStatus(): Promise<IntegrationStatus>;
  /** Installs it for this user (Linux); refused where the installer carries it. */
  installIntegration(): Promise<IntegrationOutcome>;
  /** Removes what installIntegration wrote (Linux); refused where the installer carries it. */
  removeIntegration(): Promise<IntegrationOutcome>;
  /**
   * Subscribes to "find similar to these files" requests from the command line; a request that came before the
   * first subscription (the files the app was started with) is delivered to it at once. Returns the unsubscribe.
   */
  onFindSimilar(listener: (request: FindSimilarRequest) => void): () => void;
}

export const DESKTOP_EXTRAS = [
  'on',
  'showInFolder',
  'openPhoto',
  'pickFolder',
  'integrationStatus',
  'installIntegration',
  'removeIntegration',
  'onFindSimilar',
] as const satisfies readonly (keyof DesktopExtras)[];
