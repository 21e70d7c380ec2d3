// The renderer's Content-Security-Policy, one policy for its two hosts: the Electron window (a response header and
// src/renderer/index.html's meta tag, as file:// pages get no headers) and the page `doppel serve` sends.

/** Only the page's own origin; 'unsafe-inline' styles are what Svelte's scoped styles need in development. */
function policy(imageSources: string, extra: readonly string[] = []): string {
  return [
    "default-src 'self'",
    `img-src ${imageSources}`,
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    ...extra,
  ].join('; ');
}

/** The Electron window's: images also from `doppel:`, the app's own media protocol. */
export const APP_CSP = policy("'self' data: blob: doppel:");

/** The bridge's page: images from its origin and data:/blob: URLs; never framed by another page. */
export const BRIDGE_CSP = policy("'self' data: blob:", ["frame-ancestors 'none'"]);
