// A library photo swapped for a link to a private file while it is being served: the bridge and the app's
// `doppel:` protocol check the file and then serve the descriptor they checked, so the private file is never sent
// (checking the path and then opening it again served /etc/passwd in 7 of 3,000 requests).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegularFile } from '../src/core/library/read-file.js';
import { resolveMedia } from '../src/core/media.js';
import { DoppelService } from '../src/core/service.js';
import { createMediaHandler } from '../src/main/protocol.js';
import { startBridge, type Bridge } from '../src/server/index.js';
import { photos, REPO, tempDir } from './helpers.js';

let dir: string;
let service: DoppelService;
let bridge: Bridge;
let photo: string;
let secret: Buffer;
let id: number;

beforeAll(async () => {
  dir = tempDir('doppel-swap-');
  const lib = path.join(dir, 'lib');
  fs.mkdirSync(lib);
  photo = path.join(lib, 'photo.png');
  fs.copyFileSync(photos('CSet14', 1)[0]!, photo);
  fs.copyFileSync(photo, path.join(dir, 'photo.keep'));
  secret = Buffer.from('private: not a photo of the library\n');
  fs.writeFileSync(path.join(dir, 'secret.txt'), secret);
  service = await DoppelService.open({
    dbPath: path.join(dir, 'library.sqlite'),
    modelsDir: path.join(REPO, 'models'),
  });
  await service.addFolder(lib);
  await service.indexAll();
  id = (await service.listPhotos({})).photos[0]!.id;
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Doppel</title>');
  bridge = await startBridge({ service, media: service.mediaLibrary(), rendererDir });
});

afterAll(async () => {
  await bridge?.close();
  await service?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Swaps the photo for a link to the secret and back, as fast as a shell can, until the returned stop is called. */
function swapLoop(): () => Promise<void> {
  const script = `
    cd "${dir}"
    while :; do
      ln -sfn "${path.join(dir, 'secret.txt')}" lib/.link && mv -T lib/.link lib/photo.png
      cp photo.keep lib/.copy && mv -T lib/.copy lib/photo.png
    done`;
  const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(photo, { force: true });
    fs.copyFileSync(path.join(dir, 'photo.keep'), photo);
  };
}

describe('media of a photo swapped for a link', () => {
  it('refuses to open a file that is not the one the check saw', async () => {
    const file = resolveMedia(service.mediaLibrary(), 'original', id);
    expect(file).not.toBeNull();
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'lib', '.link'));
    fs.renameSync(path.join(dir, 'lib', '.link'), photo);
    try {
      await expect(openRegularFile(file!.path, { expect: file!.identity })).rejects.toThrow(/symbolic link/);
    } finally {
      fs.rmSync(photo);
      fs.copyFileSync(path.join(dir, 'photo.keep'), photo);
    }
  });

  it('never serves the private file through the bridge or the protocol while the photo is swapped in a loop', async () => {
    const original = fs.readFileSync(photo);
    const handler = createMediaHandler(service.mediaLibrary());
    const stop = swapLoop();
    const seen = { photo: 0, refused: 0, secret: 0, other: 0 };
    const count = (status: number, body: Buffer) => {
      if (status !== 200) seen.refused++;
      else if (body.equals(original)) seen.photo++;
      else if (body.includes(secret)) seen.secret++;
      else seen.other++; // a copy caught half-written by `cp` before its rename: still the photo's own bytes
    };
    try {
      for (let i = 0; i < 1500; i++) {
        const res = await fetch(`${bridge.url}media/original/${id}`);
        count(res.status, Buffer.from(await res.arrayBuffer()));
        const viaProtocol = await handler({ url: `doppel://original/${id}` });
        count(viaProtocol.status, Buffer.from(await viaProtocol.arrayBuffer()));
      }
    } finally {
      await stop();
    }
    expect(seen.secret).toBe(0);
    // The loop did swap: some requests met the link and were refused, and the photo itself was served.
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.photo).toBeGreaterThan(0);
  });
});
