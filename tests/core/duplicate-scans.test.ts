// A duplicate scan of a library that has not changed since the last complete scan reads that scan's groups back
// (store/duplicate-scans.ts, migration 0110); every change the groups depend on makes the next scan search again.
// The generation's triggers on a real SQLite file, then the service on real photos and the shipped model.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicateGroup, DuplicateScanProgress } from '../../src/shared/api.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { Store } from '../../src/core/store/repository.js';
import { copyInto, DATA, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-scans-');

describe("the library's generation", () => {
  let store: Store;
  beforeAll(() => {
    store = Store.open(path.join(tmp, 'generation.sqlite'));
  });
  afterAll(() => store.close());

  it('moves on with what a scan reads, and not with what a scan or an unchanged index run writes', () => {
    const gen = () => store.duplicateScans.generation();
    const moves = (what: string, fn: () => void, expected: boolean) => {
      const before = gen();
      fn();
      expect({ what, moved: gen() !== before }).toEqual({ what, moved: expected });
    };
    const folder = store.addFolder('/lib');
    const model = store.ensureModel({ name: 'm', dim: 4, inputSize: 32 });
    const record = (name: string, hash: string, over: object = {}) => ({
      folderId: folder.id,
      path: `/lib/${name}`,
      size: 100,
      mtimeMs: 1,
      hash,
      width: 10,
      height: 10,
      format: 'jpeg',
      takenAt: null,
      orientation: null,
      status: 'indexed' as const,
      error: null,
      ...over,
    });
    let id = 0;
    moves('a new photo', () => (id = store.upsertPhoto(record('a.jpg', 'ha'))), true);
    moves('its vector', () => store.putVector(id, model, new Float32Array([1, 0, 0, 0])), true);
    moves('its views', () => store.putViews(id, model, 0.75, [new Float32Array([1, 0, 0, 0])]), true);
    moves('its turned views', () => store.putTurns(id, model, [new Float32Array([0, 1, 0, 0])]), true);
    moves('the same file seen again later', () => store.upsertPhoto(record('a.jpg', 'ha', { indexedAt: 99 })), false);
    moves('a newer modification time', () => store.upsertPhoto(record('a.jpg', 'ha', { mtimeMs: 2 })), true);
    moves('new content', () => store.upsertPhoto(record('a.jpg', 'hb', { mtimeMs: 2 })), true);
    const other = store.upsertPhoto(record('b.jpg', 'hc'));
    moves('a "not a duplicate" mark', () => store.addNotDuplicate('hb', 'hc'), true);
    moves('a reference folder', () => store.setFolderReference(folder.id, true), true);
    moves('a setting', () => store.setSetting('keeperRules', '["resolution"]'), true);
    moves('the same setting again', () => store.setSetting('keeperRules', '["resolution"]'), false);
    moves('a verdict', () => store.putVerdicts([{ hashA: 'hb', hashB: 'hc', measure: '{}' }], 5), false);
    moves('encoded views', () => store.putEncodedViews(id, model, 0.75, 'hb', [new Float32Array([1, 0, 0, 0])]), false);
    moves('a photo gone missing', () => store.markMissing([other]), true);

    // Kept groups are read back only at the generation they were found at.
    store.duplicateScans.put('q', gen(), '[]');
    expect(store.duplicateScans.get('q', gen())).toBe('[]');
    store.upsertPhoto(record('c.jpg', 'hd'));
    expect(store.duplicateScans.get('q', gen())).toBeNull();
  });
});

describe('a scan of an unchanged library', () => {
  const lib = path.join(tmp, 'library');
  const db = path.join(tmp, 'library.sqlite');
  let service: DoppelService;
  let originals: string[];
  let first: DuplicateGroup[];
  const groupOf = (groups: DuplicateGroup[], file: string) =>
    groups.find((g) => g.members.some((m) => m.path === file));

  beforeAll(async () => {
    originals = copyInto([...photos('CSun_Hays80', 6), ...photos('CBSD68', 6)], path.join(lib, 'photos'));
    fs.mkdirSync(path.join(lib, 'copies'));
    fs.copyFileSync(originals[0]!, path.join(lib, 'copies', 'exact.jpg'));
    await sharp(originals[1]!)
      .resize(300)
      .jpeg({ quality: 80 })
      .toFile(path.join(lib, 'copies', 'small.jpg'));
    service = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
    const summary = await service.indexFolders([await service.addFolder(lib)]);
    expect(summary.errors).toEqual([]);
  }, 300_000);
  afterAll(async () => {
    await service?.close();
  });

  it('searches the first time and reads the groups back after, in this process and the next', async () => {
    const steps: DuplicateScanProgress[] = [];
    const unsubscribe = service.on('duplicateScan', (p) => steps.push(p));
    first = await service.findDuplicates({ kinds: ['exact', 'near'] });
    unsubscribe();
    expect(service.lastScan).toMatchObject({ stored: false });
    // Each step says how far it is, in order, and the scan compares every pair it has to before it ends.
    expect([...new Set(steps.map((p) => p.step))]).toEqual(['views', 'encode', 'turns', 'verify', 'done']);
    const verified = steps.filter((p) => p.step === 'verify');
    expect(verified.at(-1)!.total).toBeGreaterThan(0);
    expect(verified.at(-1)!.done).toBe(verified.at(-1)!.total);
    expect(service.lastVerification?.fresh).toBe(verified.at(-1)!.total);
    expect(groupOf(first, originals[0]!)?.kind).toBe('exact');
    expect(
      groupOf(first, originals[1]!)
        ?.members.map((m) => path.basename(m.path))
        .sort(),
    ).toEqual([path.basename(originals[1]!), 'small.jpg'].sort());

    expect(await service.findDuplicates({ kinds: ['exact', 'near'] })).toEqual(first);
    expect(service.lastScan).toMatchObject({ stored: true, verification: null });
    // An index run that finds nothing new changes nothing a scan reads.
    const again = await service.indexAll();
    expect(again.added + again.updated).toBe(0);
    const next = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
    try {
      expect(await next.findDuplicates({ kinds: ['exact', 'near'] })).toEqual(first);
      expect(next.lastScan?.stored).toBe(true);
      // Another query is another scan; a rescan searches and finds the same groups.
      await next.findDuplicates({ kinds: ['exact', 'near', 'similar'] });
      expect(next.lastScan?.stored).toBe(false);
      expect(await next.findDuplicates({ kinds: ['exact', 'near'], rescan: true })).toEqual(first);
      expect(next.lastScan?.stored).toBe(false);
    } finally {
      await next.close();
    }
  }, 240_000);

  it('searches again after a new photo, a "not a duplicate" mark or a setting, and finds what changed', async () => {
    const copy = path.join(lib, 'copies', 'another-exact.jpg');
    fs.copyFileSync(originals[2]!, copy);
    await service.indexAll();
    const withCopy = await service.findDuplicates({ kinds: ['exact', 'near'] });
    expect(service.lastScan?.stored).toBe(false);
    expect(
      groupOf(withCopy, copy)
        ?.members.map((m) => m.path)
        .sort(),
    ).toEqual([originals[2]!, copy].sort());

    const small = service.store.getPhotoByPath(path.join(lib, 'copies', 'small.jpg'))!.id;
    await service.markNotDuplicate(service.store.getPhotoByPath(originals[1]!)!.id, small);
    const marked = await service.findDuplicates({ kinds: ['exact', 'near'] });
    expect(service.lastScan?.stored).toBe(false);
    expect(groupOf(marked, originals[1]!)).toBeUndefined();

    const before = (await service.getSettings()).keeperRules;
    await service.updateSettings({ keeperRules: [...before].reverse() });
    await service.findDuplicates({ kinds: ['exact', 'near'] });
    expect(service.lastScan?.stored).toBe(false);
    await service.updateSettings({ keeperRules: before });
    expect(await service.findDuplicates({ kinds: ['exact', 'near'] })).toEqual(marked);
  }, 240_000);
});

describe('a scan that searches the library', () => {
  let service: DoppelService;
  beforeAll(async () => {
    // 300 photos: the views are searched a page (128 photos) at a time.
    const train = path.join(DATA, 'imagenette', 'train');
    const files = fs
      .readdirSync(train)
      .sort()
      .flatMap((c) =>
        fs
          .readdirSync(path.join(train, c))
          .sort()
          .slice(0, 30)
          .map((f) => path.join(train, c, f)),
      );
    copyInto(files, path.join(tmp, 'many'));
    service = await DoppelService.open({ dbPath: path.join(tmp, 'many.sqlite'), modelsDir: defaultModelsDir() });
    const summary = await service.indexFolders([await service.addFolder(path.join(tmp, 'many'))]);
    expect(summary.errors).toEqual([]);
  }, 300_000);
  afterAll(async () => {
    await service?.close();
  });

  it('says where it stands, and answers a find-similar asked meanwhile before its views are all searched', async () => {
    expect((await service.getSettings()).findCroppedCopies).toBe(true);
    const photo = service.store.listPhotos({ limit: 1 }).photos[0]!;
    const events: string[] = [];
    let asked: Promise<void> | null = null;
    const off = service.on('duplicateScan', (p) => {
      events.push(`${p.step} ${p.done}/${p.total}`);
      // Asked from outside the scan: on the event loop's next turn.
      asked ??= new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => service.similarToPhoto(photo.id, 5))
        .then((found) => void events.push(`similar ${found.length}`));
    });
    try {
      await service.findDuplicates({ kinds: ['exact', 'near'], rescan: true });
    } finally {
      off();
    }
    await asked;
    expect(events.filter((e) => e.startsWith('views'))).toEqual(['views 128/300', 'views 256/300', 'views 300/300']);
    expect(events.filter((e) => e.startsWith('turns'))).toEqual(['turns 128/300', 'turns 256/300', 'turns 300/300']);
    expect(events.at(-1)).toMatch(/^done /);
    expect(events.indexOf('similar 5')).toBe(1);
  }, 240_000);
});
