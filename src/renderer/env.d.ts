import type { DoppelApi } from '../shared/api.js';
import type { DesktopExtras } from '../shared/ipc.js';

declare global {
  interface Window {
    /**
     * Exposed by src/preload/index.ts in the desktop app; absent in a browser, where the renderer talks to the
     * loopback bridge instead (lib/client.ts).
     */
    readonly doppel?: DoppelApi & DesktopExtras;
  }
}
