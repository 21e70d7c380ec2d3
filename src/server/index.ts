// The loopback bridge: serves the built renderer and the DoppelApi to a browser on this machine only.
// - Bound to 127.0.0.1; requests must name the bridge by a loopback Host (no DNS rebinding).
// - Every request carries the random token as the first path segment: http://127.0.0.1:PORT/<token>/...
//   (the renderer's relative asset URLs keep it), compared in constant time.
// - POST <token>/api/<member> with a JSON array of arguments (byte arrays as src/shared/wire.ts encodes them),
//   validated by the same zod schemas as the Electron IPC handlers (src/core/api-schema.ts); answers an IpcResult.
// - GET <token>/events: the DoppelEvents as Server-Sent Events.
// - GET <token>/media/{thumb,original}/<id>: a library photo's thumbnail or original, by id only.
// - GET <token>/find-similar: the files `doppel find-similar` was started with (names and bytes, read before the
//   bridge started), which the page opens in the Similar view; none for `doppel serve`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { API_LIMITS, dispatch } from '../core/api-schema.js';
import {
  confineFile,
  contentTypeOf,
  driveNotAnswering,
  openMedia,
  parseMediaId,
  resolveMedia,
  type FileIdentity,
  type MediaLibrary,
} from '../core/media.js';
import { API_MEMBERS, EVENT_NAMES, type DoppelApi, type DoppelEvents } from '../shared/api.js';
import { BRIDGE_CSP } from '../shared/csp.js';
import type { ApiMember, FindSimilarRequest } from '../shared/ipc.js';
import { fromWire, toWire } from '../shared/wire.js';

/** What the bridge needs from the engine (DoppelService satisfies it). */
export interface BridgeService extends DoppelApi {
  on<K extends keyof DoppelEvents>(event: K, listener: (payload: DoppelEvents[K]) => void): () => void;
}

export interface BridgeOptions {
  service: BridgeService;
  media: MediaLibrary;
  /** The built renderer (out/renderer), holding index.html. */
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Fixed token (tests); a random one by default. */
  token?: string;
  /** Files the page opens in the Similar view (`doppel find-similar`), served at <token>/find-similar. */
  findSimilar?: FindSimilarRequest;
}

export interface Bridge {
  /** The address to open, token included. */
  readonly url: string;
  readonly token: string;
  readonly server: http.Server;
  /** How many pages hold the events stream open now: 0 once every page of the bridge was closed. */
  openStreams(): number;
  close(): Promise<void>;
}

export const BRIDGE_HOST = '127.0.0.1';
/** A request body may hold one image as base64 plus a little JSON. */
const MAX_BODY = Math.ceil((API_LIMITS.maxImageBytes * 4) / 3) + 64 * 1024;
const MEMBERS = new Set<string>(API_MEMBERS);

/** The bridge's Content-Security-Policy (src/shared/csp.ts). */
export { BRIDGE_CSP };

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // The token is in the URL: never send it elsewhere as a referrer.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function tokensEqual(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Streams a file that confineFile checked, from the descriptor opened for it (no link followed, except for a photo
 * that its folder reaches through one; the same file expected): a file swapped since the check gets a 404. The
 * stream reads it in chunks, never whole.
 */
async function sendFile(
  res: http.ServerResponse,
  file: { path: string; identity: FileIdentity; followSymlinks?: true },
  type: string,
  headers: Record<string, string> = {},
): Promise<void> {
  let body: Readable;
  try {
    // Its first read answers before the status is sent: a drive that stopped answering gets a 503, not half a 200.
    body = await openMedia(file);
  } catch (err) {
    if (driveNotAnswering(err)) return send(res, 503, `not answering: ${err.message}`);
    return send(res, 404, 'not found');
  }
  res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': type, ...headers });
  body.on('error', () => res.destroy());
  res.on('close', () => body.destroy());
  body.pipe(res);
}

async function readBody(req: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Starts the bridge on 127.0.0.1. */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const rendererDir = path.resolve(opts.rendererDir);
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error(`No built renderer at ${rendererDir} (run \`npm run build\`)`);
  }
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  function allowedHost(host: string | undefined): boolean {
    return host === `${BRIDGE_HOST}:${port}` || host === `localhost:${port}`;
  }

  function allowedOrigin(origin: string): boolean {
    return origin === `http://${BRIDGE_HOST}:${port}` || origin === `http://localhost:${port}`;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!allowedHost(req.headers.host)) return send(res, 403, 'forbidden');
    // An unparsable target (say `http://[x/`) is the client's error: answered before anything reads or logs it.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${BRIDGE_HOST}:${port}`);
    } catch {
      return send(res, 400, 'bad request');
    }
    const [, first = '', ...rest] = url.pathname.split('/');
    if (!tokensEqual(first, token)) return send(res, 403, 'forbidden');
    const route = rest.join('/');
    if (rest.length === 0) {
      // Without the trailing slash, relative asset URLs would lose the token.
      res.writeHead(308, { ...COMMON_HEADERS, Location: `/${token}/` });
      return void res.end();
    }

    if (route.startsWith('api/')) {
      const member = route.slice(4);
      if (req.method !== 'POST') return send(res, 405, 'POST only');
      // Defence in depth beside the token and the JSON content type: a browser's POST from another page says so.
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigin(origin)) return send(res, 403, 'forbidden');
      if (!MEMBERS.has(member)) return send(res, 404, 'no such API member');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'JSON only');
      const body = await readBody(req);
      if (body === null) return send(res, 413, 'request too large');
      let args: unknown;
      try {
        args = fromWire(JSON.parse(body));
      } catch {
        return send(res, 400, 'the body is not valid JSON');
      }
      if (!Array.isArray(args)) return send(res, 400, 'the body must be a JSON array of arguments');
      const result = await dispatch(opts.service, member as ApiMember, args);
      return send(res, 200, JSON.stringify(toWire(result)), 'application/json');
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET only');

    if (route === 'events') {
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }

    if (route === 'find-similar') {
      const request: FindSimilarRequest = opts.findSimilar ?? { files: [], problems: [] };
      return send(res, 200, JSON.stringify(toWire(request)), 'application/json');
    }

    const media = /^media\/(thumb|original)\/([^/]+)$/.exec(route);
    if (media) {
      const id = parseMediaId(media[2]!);
      const file = id === null ? null : resolveMedia(opts.media, media[1] as 'thumb' | 'original', id);
      if (!file) return send(res, 404, 'not a photo of the library');
      return sendFile(res, file, file.contentType);
    }

    const relative = route === '' ? 'index.html' : route;
    const file = confineFile(path.join(rendererDir, ...relative.split('/')), [rendererDir]);
    if (!file) return send(res, 404, 'not found');
    const type = STATIC_TYPES[path.extname(file.path)] ?? contentTypeOf(file.path);
    return sendFile(res, file, type, type.startsWith('text/html') ? { 'Content-Security-Policy': BRIDGE_CSP } : {});
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('doppel: bridge request failed', err);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });

  const unsubscribe = EVENT_NAMES.map((event) =>
    opts.service.on(event, (payload) => {
      const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const stream of streams) stream.write(frame);
    }),
  );
  const keepAlive = setInterval(() => {
    for (const stream of streams) stream.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, BRIDGE_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${BRIDGE_HOST}:${port}/${token}/`,
    token,
    server,
    openStreams: () => streams.size,
    close: async () => {
      clearInterval(keepAlive);
      for (const off of unsubscribe) off();
      for (const stream of streams) stream.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
