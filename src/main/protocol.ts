// The app's `doppel:` protocol: doppel://thumb/<id> and doppel://original/<id> serve a library photo's thumbnail
// or original, found by id and confined to the library (src/core/media.ts). Nothing else is reachable through it.
// Free of runtime electron imports so it runs under plain Node in tests.
import { Readable } from 'node:stream';
import {
  driveNotAnswering,
  openMedia,
  parseMediaId,
  resolveMedia,
  type MediaFile,
  type MediaKind,
  type MediaLibrary,
} from '../core/media.js';

export const MEDIA_SCHEME = 'doppel';

/** Privileges for protocol.registerSchemesAsPrivileged: a standard, secure scheme that <img> and fetch may load. */
export const MEDIA_SCHEME_PRIVILEGES = {
  scheme: MEDIA_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
} as const;

/** `doppel://thumb/12` -> { kind: 'thumb', id: 12 }; anything else (paths, `..`, queries, escapes) -> null. */
export function parseMediaUrl(raw: string): { kind: MediaKind; id: number } | null {
  if (raw.includes('..') || raw.includes('%') || raw.includes('\\')) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== `${MEDIA_SCHEME}:` || url.search || url.hash || url.username || url.port) return null;
  if (url.hostname !== 'thumb' && url.hostname !== 'original') return null;
  const match = /^\/([^/]+)$/.exec(url.pathname);
  const id = match ? parseMediaId(match[1]!) : null;
  return id === null ? null : { kind: url.hostname, id };
}

/** The file a request may read, or null. */
export function resolveMediaUrl(library: MediaLibrary, raw: string): MediaFile | null {
  const request = parseMediaUrl(raw);
  return request ? resolveMedia(library, request.kind, request.id) : null;
}

/** The handler for protocol.handle(MEDIA_SCHEME, ...): 200 with the file, 404 for everything else. */
export function createMediaHandler(library: MediaLibrary): (request: { url: string }) => Promise<Response> {
  return async (request) => {
    const file = resolveMediaUrl(library, request.url);
    if (!file) return new Response('not a photo of the library', { status: 404 });
    let body: Readable;
    try {
      // From the descriptor checked to be the file resolveMedia saw, in chunks (never the whole original in memory),
      // each read within the time limit; the first answers before the status is chosen.
      body = await openMedia(file);
    } catch (err) {
      if (driveNotAnswering(err)) return new Response('not answering', { status: 503 });
      return new Response('not readable', { status: 404 });
    }
    return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: { 'Content-Type': file.contentType, 'X-Content-Type-Options': 'nosniff' },
    });
  };
}
