import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexProgress } from '../../src/shared/api.js';
import { thumbnailPath } from '../../src/core/library/thumbnails.js';
import { defaultModelsDir, thumbnailDirFor } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-service-');
const lib = path.join(tmp, 'library');
const dbPath = path.join(tmp, 'db', 'library.sqlite');
let service: DoppelService;
let originals: string[];
let files: string[];

beforeAll(async () => {
  originals = [...photos('CSun_Hays80', 12), ...photos('CBSD68', 6)];
  files = copyInto(originals, lib);
  fs.mkdirSync(path.join(lib, 'bad'));
  fs.writeFileSync(path.join(lib, 'bad', 'empty.jpg'), '');
  fs.writeFileSync(path.join(lib, 'bad', 'notes.png'), 'this is not a picture\n');
  const jpeg = fs.readFileSync(files[0]!);
  fs.writeFileSync(path.join(lib, 'bad', 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  fs.writeFileSync(path.join(lib, 'readme.txt'), 'not an image extension: ignored');
  service = await DoppelService.open({ dbPath, modelsDir: defaultModelsDir() });
}, 60_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('DoppelService indexing', () => {
  it('indexes every readable photo and records each bad file with its reason', async () => {
    const folder = await service.addFolder(lib);
    const events: IndexProgress[] = [];
    const off = service.on('progress', (p) => events.push(p));
    const summary = await service.indexAll();
    off();
    expect(summary).toMatchObject({ scanned: 21, added: 21, updated: 0, unchanged: 0, removed: 0, offlineFolders: [] });
    expect(summary.errors.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: path.join(folder.path, 'bad', 'empty.jpg'), reason: 'Empty file (0 bytes)' },
      {
        path: path.join(folder.path, 'bad', 'notes.png'),
        reason: expect.stringMatching(/^Not a supported image/) as string,
      },
      {
        path: path.join(folder.path, 'bad', 'truncated.jpg'),
        reason: expect.stringMatching(/^Corrupt or truncated/) as string,
      },
    ]);
    const info = await service.info();
    expect(info).toMatchObject({ photos: 18, errors: 3, folders: 1, dbPath });
    expect(await service.listErrors()).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ phase: 'done', done: 21, total: 21 });
    expect(events.some((e) => e.phase === 'index' && e.rate > 0 && e.etaMs !== null)).toBe(true);
    // Every indexed photo has its display thumbnail cached by content hash.
    const page = await service.listPhotos({ limit: 100 });
    expect(page.total).toBe(18);
    for (const p of page.photos) expect(fs.existsSync(thumbnailPath(thumbnailDirFor(dbPath), p.hash!))).toBe(true);
  }, 120_000);

  it('reads nothing again when the folder has not changed', async () => {
    const before = service.store.photosInFolder(1).map((p) => [p.path, p.indexedAt]);
    const summary = await service.indexAll();
    expect(summary).toMatchObject({ scanned: 21, added: 0, updated: 0, unchanged: 21, removed: 0 });
    expect(summary.errors).toHaveLength(3); // known bad files are still reported
    expect(service.store.photosInFolder(1).map((p) => [p.path, p.indexedAt])).toEqual(before);
  });

  it('finds a photo from a resized, re-compressed copy made outside the library', async () => {
    for (const original of [files[2]!, files[7]!, files[14]!]) {
      const meta = await sharp(original).metadata();
      const copy = await sharp(original)
        .resize(Math.round(meta.width! / 2))
        .jpeg({ quality: 50 })
        .toBuffer();
      const [first] = await service.similarToImage(copy, 5);
      expect(first!.photo.path).toBe(path.join(fs.realpathSync(lib), path.basename(original)));
      expect(first!.score).toBeGreaterThan(0.9);
    }
  });

  it('ranks neighbours of a library photo without the photo itself', async () => {
    const page = await service.listPhotos({ limit: 1, sort: 'name' });
    const results = await service.similarToPhoto(page.photos[0]!.id, 5);
    expect(results).toHaveLength(5);
    expect(results.map((r) => r.photo.id)).not.toContain(page.photos[0]!.id);
    const scores = results.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('follows changed, added and deleted files, and the search index follows too', async () => {
    const real = fs.realpathSync(lib);
    const changed = path.join(real, path.basename(files[1]!));
    const buf = await sharp(files[1]!).flop().jpeg({ quality: 90 }).toBuffer();
    fs.writeFileSync(changed, buf);
    const added = path.join(real, 'added.png');
    fs.copyFileSync(photos('CSet14', 1)[0]!, added);
    const deleted = path.join(real, path.basename(files[3]!));
    fs.rmSync(deleted);
    const summary = await service.indexAll();
    expect(summary).toMatchObject({ added: 1, updated: 1, removed: 1, unchanged: 19 });
    const [first] = await service.similarToImage(fs.readFileSync(added), 1);
    expect(first!.photo.path).toBe(added);
    const all = (await service.listPhotos({ limit: 100 })).photos.map((p) => p.path);
    expect(all).not.toContain(deleted);
    const hits = await service.similarToImage(fs.readFileSync(originals[3]!), 30);
    expect(hits.map((h) => h.photo.path)).not.toContain(deleted);
  }, 60_000);

  it('marks an unreachable folder offline and keeps its photos', async () => {
    const moved = `${lib}-unplugged`;
    fs.renameSync(lib, moved);
    try {
      const summary = await service.indexAll();
      expect(summary.offlineFolders).toEqual([fs.realpathSync(moved).replace(/-unplugged$/, '')]);
      expect(summary.removed).toBe(0);
      expect((await service.listFolders())[0]!.status).toBe('offline');
      expect((await service.info()).photos).toBe(18);
    } finally {
      fs.renameSync(moved, lib);
    }
    await service.indexAll();
    expect((await service.listFolders())[0]!.status).toBe('online');
  }, 60_000);

  it('reconstructs a library photo as two PNGs with its MSE', async () => {
    const page = await service.listPhotos({ limit: 1 });
    const r = await service.reconstructPhoto(page.photos[0]!.id);
    const [a, b] = await Promise.all([sharp(r.input).metadata(), sharp(r.output).metadata()]);
    expect([a.format, a.width, b.format, b.width]).toEqual(['png', 32, 'png', 32]);
    expect(r.mse).toBeGreaterThan(0);
    expect(r.mse).toBeLessThan(0.05);
  });

  it('refuses a folder that does not exist and a photo id that does not exist, as data', async () => {
    await expect(service.addFolder(path.join(tmp, 'nope'))).rejects.toMatchObject({ kind: 'not-found' });
    await expect(service.similarToPhoto(999_999, 3)).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('DoppelService indexing control', () => {
  it('pauses between batches, resumes, and cancels keeping the finished batches', async () => {
    const dir = tempDir('doppel-control-');
    try {
      copyInto(photos('CSun_Hays80', 40), path.join(dir, 'lib'));
      const svc = await DoppelService.open({ dbPath: path.join(dir, 'lib.sqlite'), modelsDir: defaultModelsDir() });
      try {
        await svc.addFolder(path.join(dir, 'lib'));
        expect(await svc.indexStatus()).toEqual({ state: 'idle', progress: null, watching: false });
        const states: string[] = [];
        svc.on('indexStatus', (s) => states.push(s.state));
        let batches = 0;
        let pausedAt = -1;
        const off = svc.on('progress', (p) => {
          if (p.phase !== 'index') return;
          batches++;
          if (batches === 1) {
            void svc.pauseIndexing();
            pausedAt = p.done;
          }
        });
        const run = svc.indexAll();
        // The pause takes before the next batch: the run waits between batches, where no batch can complete until
        // it is resumed or cancelled.
        await svc.whenParked();
        expect((await svc.indexStatus()).state).toBe('paused');
        expect(batches).toBe(1);
        expect((await svc.indexStatus()).progress).toMatchObject({ phase: 'index', done: pausedAt });
        await svc.cancelIndexing();
        await expect(run).rejects.toMatchObject({ kind: 'cancelled' });
        off();
        // The first batch was committed before the pause and is kept.
        expect((await svc.info()).photos).toBe(pausedAt);
        // Cancelling reports 'running' until the run has stopped, then 'idle'.
        expect(states).toEqual(['running', 'paused', 'running', 'idle']);
        // A new run picks up the rest; resume lets a paused run finish.
        let paused = false;
        const off2 = svc.on('progress', (p) => {
          if (p.phase === 'index' && !paused) {
            paused = true;
            void svc.pauseIndexing().then(() => setTimeout(() => void svc.resumeIndexing(), 300));
          }
        });
        const summary = await svc.indexAll();
        off2();
        expect(summary).toMatchObject({ added: 40 - pausedAt, unchanged: pausedAt });
        expect((await svc.info()).photos).toBe(40);
      } finally {
        await svc.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
