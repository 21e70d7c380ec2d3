// How DoppelApi travels over Electron IPC: one channel per member, results as data.
// Pure TypeScript: imports only from src/shared.
import { API_MEMBERS, type DoppelApi, type DoppelErrorData } from './api.js';

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
