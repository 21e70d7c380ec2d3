// Window hardening that does not need Electron to run: the CSP and the IPC sender check.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_CSP } from '../shared/csp.js';
import type { SenderCheck } from './ipc.js';

/** Sent as a response header and repeated in src/renderer/index.html's meta tag (src/shared/csp.ts). */
export const CONTENT_SECURITY_POLICY = APP_CSP;

export interface RendererLocation {
  /** The Vite dev server URL in development (ELECTRON_RENDERER_URL). */
  devServerUrl?: string | undefined;
  /** The built renderer's index.html, used when there is no dev server. */
  indexHtml: string;
}

/** Trusts only frames showing the app's own renderer: the dev server's origin, or exactly the built index.html. */
export function createSenderCheck(location: RendererLocation): SenderCheck {
  const devOrigin = location.devServerUrl ? new URL(location.devServerUrl).origin : null;
  const indexHtml = path.resolve(location.indexHtml);
  return (frame) => {
    if (!frame) return false;
    let url: URL;
    try {
      url = new URL(frame.url);
    } catch {
      return false;
    }
    if (devOrigin) return url.origin === devOrigin;
    if (url.protocol !== 'file:') return false;
    url.search = '';
    url.hash = '';
    return path.resolve(fileURLToPath(url)) === indexHtml;
  };
}
