// The context menu's entries every photo menu shares: the desktop-only "Show in folder" and "Open".
import type { Client } from './client.js';
import type { Notifications } from './notifications.svelte.js';
import type { MenuItem } from './types.js';

/** "Show in folder" and "Open" for a photo: shown disabled, with the reason, where the client has no desktop. */
export function desktopItems(photoId: number, client: Client, notifications: Notifications): MenuItem[] {
  const run = (action: ((id: number) => Promise<void>) | null) => () =>
    void action?.(photoId).catch((e: unknown) => notifications.handleError(e));
  return [
    {
      label: 'Show in folder',
      action: run(client.showInFolder),
      unavailable: client.showInFolder ? null : client.desktopOnly,
    },
    { label: 'Open', action: run(client.openPhoto), unavailable: client.openPhoto ? null : client.desktopOnly },
  ];
}
