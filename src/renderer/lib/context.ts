// Typed Svelte context: App.svelte provides the client and the state managers once, every component takes them here.
import { getContext, setContext } from 'svelte';
import type { Client } from './client.js';
import type { IndexingManager } from './indexing.svelte.js';
import type { LibraryManager } from './library.svelte.js';
import type { Notifications } from './notifications.svelte.js';

export interface AppContext {
  client: Client;
  library: LibraryManager;
  indexing: IndexingManager;
  notifications: Notifications;
}

const KEY = Symbol('doppel');

/** Called once, by App.svelte during its initialisation. */
export function setAppContext(context: AppContext): AppContext {
  return setContext(KEY, context);
}

/** Call during a component's initialisation (as with getContext). */
function appContext(): AppContext {
  const context = getContext<AppContext | undefined>(KEY);
  if (!context) throw new Error('No app context: the component is not inside App.svelte');
  return context;
}

export const getClient = (): Client => appContext().client;
export const getLibrary = (): LibraryManager => appContext().library;
export const getIndexing = (): IndexingManager => appContext().indexing;
export const getNotifications = (): Notifications => appContext().notifications;
