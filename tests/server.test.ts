// The loopback bridge on a real library: token on every request, loopback only, the API with the IPC schemas,
// media by id of library photos only, events as Server-Sent Events.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoppelService } from '../src/core/service.js';
import { startBridge, type Bridge } from '../src/server/index.js';
import { ASPECT_SCALE, type PhotoLayout } from '../src/shared/api.js';
import { fromWire, toWire } from '../src/shared/wire.js';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

let dir: string;
let service: DoppelService;
let bridge: Bridge;
let base: string;
let rendererDir: string;

beforeAll(async () => {
  dir = tempDir('doppel-server-');
  copyInto(photos('CSet14', 3), path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'not a photo');
  // A minimal renderer folder: the bridge serves whatever the build put there.
  rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Doppel</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'export {};');
  const dbPath = path.join(dir, 'library.sqlite');
  service = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
  await service.addFolder(path.join(dir, 'lib'));
  await service.indexAll();
  bridge = await startBridge({
    service,
    media: service.mediaLibrary(),
    rendererDir,
  });
  base = bridge.url;
});

afterAll(async () => {
  await bridge?.close();
  await service?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(member: string, args: unknown[], url = base): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}api/${member}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(toWire(args)),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? fromWire(JSON.parse(text)) : text,
  };
}

describe('bridge', () => {
  it('prints a loopback URL that carries a long random token', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/$/);
    expect(bridge.url).toContain(bridge.token);
  });

  it('listens on 127.0.0.1 only', async () => {
    const address = bridge.server.address() as AddressInfo;
    expect(address.address).toBe('127.0.0.1');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // a machine with loopback only has nothing more to check
    const reaches = (port: number): Promise<boolean> =>
      new Promise<boolean>((resolve) => {
        const req = http.get({ host: external.address, port, path: `/${bridge.token}/`, timeout: 3000 });
        req.on('response', (res) => {
          res.resume();
          resolve(true);
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => {
          req.destroy();
          resolve(false);
        });
      });
    expect(await reaches(address.port)).toBe(false);
    // Control: a server listening on every interface is reachable at that address, so the check above can fail.
    const open = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => open.listen(0, '0.0.0.0', resolve));
    try {
      expect(await reaches((open.address() as AddressInfo).port)).toBe(true);
    } finally {
      await new Promise((resolve) => open.close(resolve));
    }
  });

  it('refuses every route without the token or with a wrong one', async () => {
    const origin = new URL(base).origin;
    const wrong = `${origin}/${'x'.repeat(bridge.token.length)}/`;
    for (const url of [`${origin}/`, `${origin}/index.html`, `${origin}/api/info`, wrong, `${wrong}events`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(403);
      expect(await res.text()).not.toContain('Doppel');
    }
    expect((await call('info', [], `${origin}/`)).status).toBe(403);
    expect((await call('info', [], wrong)).status).toBe(403);
    expect((await call('info', [], `${origin}/${bridge.token.slice(0, -1)}/`)).status).toBe(403);
  });

  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    const address = bridge.server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: address.port, path: `/${bridge.token}/`, headers: { Host: 'evil.example' } })
        .on('response', (res) => resolve(res.statusCode ?? 0))
        .on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('answers an unparsable request target with 400, and refuses API posts from another origin', async () => {
    const address = bridge.server.address() as AddressInfo;
    const raw = (opts: http.RequestOptions, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: address.port, ...opts }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await raw({ path: 'http://[x/' })).toBe(400);
    const post = (origin?: string) =>
      raw(
        {
          method: 'POST',
          path: `/${bridge.token}/api/info`,
          headers: { 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) },
        },
        '[]',
      );
    expect(await post('http://evil.example')).toBe(403);
    expect(await post(`http://localhost:${address.port + 1}`)).toBe(403);
    expect(await post(`http://127.0.0.1:${address.port}`)).toBe(200);
    expect(await post()).toBe(200);
  });

  it('serves the renderer with the token and a strict CSP, and no file outside it', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await res.text()).toContain('<title>Doppel</title>');
    expect((await fetch(`${base}assets/app.js`)).status).toBe(200);
    expect((await fetch(`${base}..%2Fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${base}assets/..%2F..%2Fsecret.txt`)).status).toBe(404);
  });

  it('answers API calls with the service, validating arguments with the IPC schemas', async () => {
    const info = await call('info', []);
    expect(info).toMatchObject({ status: 200, body: { ok: true, value: { photos: 3, folders: 1 } } });
    const bad = await call('similarToPhoto', ['1', 5]);
    expect(bad.body).toMatchObject({ ok: false, error: { kind: 'invalid-argument' } });
    expect((await call('noSuchMember', [])).status).toBe(404);
    const missing = await call('reconstructPhoto', [999_999]);
    expect(missing.body).toMatchObject({ ok: false, error: { kind: 'not-found' } });
  });

  it('refuses a __proto__ key in API arguments instead of letting it replace a prototype', async () => {
    // JSON.parse keeps `__proto__` as an own key; fromWire used to assign it, swapping the object's prototype.
    expect(() => fromWire(JSON.parse('{"__proto__": {"polluted": true}}'))).toThrow(/__proto__/);
    const res = await fetch(`${base}api/listPhotos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '[{"__proto__": {"limit": 1}}]',
    });
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fromWire(JSON.parse('{"a": {"b": [1, {"$bytes": "AQI="}]}}'))).toEqual({
      a: { b: [1, new Uint8Array([1, 2])] },
    });
  });

  it('carries binary arguments and results (query by image, reconstruction PNGs)', async () => {
    const [file] = photos('CSet14', 1);
    const image = new Uint8Array(fs.readFileSync(file!));
    const similar = (await call('similarToImage', [image, 3])).body as {
      ok: true;
      value: { photo: { path: string }; score: number }[];
    };
    expect(similar.ok).toBe(true);
    expect(path.basename(similar.value[0]!.photo.path)).toBe(path.basename(file!));
    expect(similar.value[0]!.score).toBeGreaterThan(0.99);
    const page = await service.listPhotos({});
    const rec = (await call('reconstructPhoto', [page.photos[0]!.id])).body as {
      ok: true;
      value: { output: Uint8Array };
    };
    expect(rec.value.output).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(rec.value.output.subarray(1, 4)).toString()).toBe('PNG');
  });

  it('carries the photo layout as byte arrays: ids in listPhotos order, aspect ratios, month sections', async () => {
    const { body } = await call('photoLayout', [{ sort: 'date' }]);
    const layout = (body as { ok: true; value: PhotoLayout }).value;
    expect(layout.ids).toBeInstanceOf(Uint8Array);
    const page = await service.listPhotos({ sort: 'date' });
    expect(layout.count).toBe(page.total);
    const ids = new Uint32Array(layout.ids.buffer, layout.ids.byteOffset, layout.count);
    const aspects = new Uint16Array(layout.aspects.buffer, layout.aspects.byteOffset, layout.count);
    expect([...ids]).toEqual(page.photos.map((p) => p.id));
    expect([...aspects]).toEqual(page.photos.map((p) => Math.round((p.width! / p.height!) * ASPECT_SCALE)));
    expect(layout.sections.reduce((n, s) => n + s.count, 0)).toBe(layout.count);
    for (const s of layout.sections) expect(s.key).toMatch(/^\d{4}-\d\d$/);
    expect((await call('photoLayout', [{ sort: 'size' }])).body).toMatchObject({ ok: false });
  });

  it("shows the code as one small map per channel of the model's bottleneck", async () => {
    const page = await service.listPhotos({});
    const rec = await service.reconstructPhoto(page.photos[0]!.id);
    const [h, w, channels] = service.model.card.codeShape;
    expect(rec.codeMaps).toHaveLength(channels!);
    // The default model (doppel-ae32d) draws with a 16-channel detail code beside the stored one.
    expect(rec.detailChannels).toBe(16);
    for (const map of rec.codeMaps) {
      const { data, info } = await sharp(map.png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([w, h]);
      expect(map.max).toBeGreaterThan(map.min);
      // scaled to its own range: the smallest value is black, the largest white
      expect(Math.min(...data)).toBe(0);
      expect(Math.max(...data)).toBe(255);
    }
  });

  it('serves thumbnails and originals of library photos by id, and nothing else', async () => {
    const { photos: listed } = await service.listPhotos({});
    const photo = listed[0]!;
    const original = await fetch(`${base}media/original/${photo.id}`);
    expect(original.status).toBe(200);
    expect(Buffer.from(await original.arrayBuffer()).equals(fs.readFileSync(photo.path))).toBe(true);
    const thumb = await fetch(`${base}media/thumb/${photo.id}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    for (const id of ['999999', '0', '-1', '1.5', 'abc', '..%2F..%2Fsecret.txt', encodeURIComponent(photo.path)]) {
      expect((await fetch(`${base}media/original/${id}`)).status, id).toBe(404);
    }
    expect((await fetch(`${base}media/other/${photo.id}`)).status).toBe(404);
  });

  it('streams events to the browser as Server-Sent Events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value);
      }
    };
    await until(': connected');
    await call('pauseIndexing', []);
    await until('event: indexStatus');
    expect(text).toMatch(/data: \{"state":"idle"/);
    controller.abort();
  });
});
