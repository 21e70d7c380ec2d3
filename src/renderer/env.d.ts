import type { DoppelApi } from '../shared/api.js';

declare global {
  interface Window {
    /** Exposed by src/preload/index.ts (Electron) or the loopback bridge client; the renderer's only way out. */
    readonly doppel: DoppelApi;
  }
}
