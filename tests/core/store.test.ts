import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DoppelError } from '../../src/shared/api.js';
import { openDatabase } from '../../src/core/store/db.js';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../src/core/store/migrations/index.js';
import { cosine } from '../../src/core/vectors.js';
import { PHOTO_MONTHS_SQL, photoLayoutSql } from '../../src/core/store/photos.js';
import { Store, type PhotoRecord } from '../../src/core/store/repository.js';

const columns = (db: BetterSqlite3.Database, table: string) =>
  (db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; pk: number }[]).map(
    (c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.pk ? ` PK${c.pk}` : ''}`,
  );

function photo(folderId: number, p: string, over: Partial<PhotoRecord> = {}): PhotoRecord {
  return {
    folderId,
    path: p,
    size: 1234,
    mtimeMs: 1_700_000_000_123.5,
    dev: 2049,
    ino: 77,
    hash: `hash-${p}`,
    width: 640,
    height: 480,
    format: 'jpeg',
    takenAt: null,
    orientation: 1,
    status: 'indexed',
    error: null,
    indexedAt: 1_700_000_001_000,
    ...over,
  };
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-store-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('migrations', () => {
  it('are numbered in steps of 10, ascending', () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe((i + 1) * 10));
    expect(LATEST_VERSION).toBe(MIGRATIONS.at(-1)!.version);
  });

  it('create the expected schema on :memory: and set user_version', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual([
      'action_files',
      'actions',
      'duplicate_scans',
      'encoded_views',
      'folders',
      'library_state',
      'models',
      'not_duplicates',
      'pair_verdicts',
      'photos',
      'scan_errors',
      'search_state',
      'settings',
      'turn_vectors',
      'vector_changes',
      'vectors',
      'view_vectors',
    ]);
    expect(columns(db, 'folders')).toEqual([
      'id INTEGER PK1',
      'path TEXT NOT NULL',
      'added_at INTEGER NOT NULL',
      'status TEXT NOT NULL',
      'reference INTEGER NOT NULL',
      'follow_symlinks INTEGER NOT NULL',
    ]);
    expect(columns(db, 'photos')).toEqual([
      'id INTEGER PK1',
      'folder_id INTEGER NOT NULL',
      'path TEXT NOT NULL',
      'size INTEGER NOT NULL',
      'mtime_ms REAL NOT NULL',
      'dev INTEGER',
      'ino INTEGER',
      'hash TEXT',
      'width INTEGER',
      'height INTEGER',
      'format TEXT',
      'taken_at TEXT',
      'orientation INTEGER',
      'status TEXT NOT NULL',
      'error TEXT',
      'indexed_at INTEGER NOT NULL',
    ]);
    expect(columns(db, 'models')).toEqual([
      'id INTEGER PK1',
      'name TEXT NOT NULL',
      'dim INTEGER NOT NULL',
      'input_size INTEGER NOT NULL',
      'created_at INTEGER NOT NULL',
    ]);
    expect(columns(db, 'vectors')).toEqual([
      'photo_id INTEGER NOT NULL PK1',
      'model_id INTEGER NOT NULL PK2',
      'vector BLOB NOT NULL',
    ]);
    expect(columns(db, 'settings')).toEqual(['key TEXT PK1', 'value TEXT NOT NULL']);
    expect(columns(db, 'encoded_views')).toEqual([
      'photo_id INTEGER NOT NULL PK1',
      'model_id INTEGER NOT NULL PK2',
      'fraction REAL NOT NULL',
      'hash TEXT NOT NULL',
      'vectors BLOB NOT NULL',
    ]);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'photos' AND sql IS NOT NULL")
      .pluck()
      .all();
    expect(indexes).toEqual(expect.arrayContaining(['photos_hash', 'photos_folder', 'photos_status']));
    db.close();
  });

  it('apply each pending migration once and are idempotent', () => {
    const db = new BetterSqlite3(':memory:');
    const applied: number[] = [];
    const ms = [
      { version: 10, name: 'a', up: (d: BetterSqlite3.Database) => (d.exec('CREATE TABLE a (x)'), applied.push(10)) },
      { version: 20, name: 'b', up: (d: BetterSqlite3.Database) => (d.exec('CREATE TABLE b (x)'), applied.push(20)) },
    ];
    migrate(db, ms.slice(0, 1));
    migrate(db, ms);
    migrate(db, ms);
    expect(applied).toEqual([10, 20]);
    expect(db.pragma('user_version', { simple: true })).toBe(20);
    db.close();
  });

  it('roll back a failing migration, including its user_version', () => {
    const db = new BetterSqlite3(':memory:');
    const bad = {
      version: 10,
      name: 'bad',
      up: (d: BetterSqlite3.Database) => {
        d.exec('CREATE TABLE half (x)');
        throw new Error('boom');
      },
    };
    expect(() => migrate(db, [bad])).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuse a database from a newer Doppel', () => {
    const file = path.join(tmp, 'future.sqlite');
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${LATEST_VERSION + 10}`);
    raw.close();
    let error: unknown;
    try {
      openDatabase(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DoppelError);
    expect((error as DoppelError).kind).toBe('database');
    expect((error as DoppelError).message).toMatch(
      new RegExp(`^This library was created by a newer version of Doppel \\(schema ${LATEST_VERSION + 10}\\); `),
    );
  });
});

describe('openDatabase', () => {
  it('opens a file in WAL mode with foreign keys on, creating the parent folder', () => {
    const file = path.join(tmp, 'nested', 'deeper', 'library.sqlite');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    db.close();
    expect(fs.existsSync(file)).toBe(true);
    // Reopening an up-to-date file is a no-op.
    openDatabase(file).close();
  });
});

describe('Store', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('adds folders idempotently, lists, updates and removes them', () => {
    const a = store.addFolder('/photos/a');
    expect(a).toEqual({
      id: a.id,
      path: '/photos/a',
      addedAt: expect.any(Number),
      status: 'online',
      reference: false,
      followSymlinks: false,
    });
    expect(store.addFolder('/photos/a')).toEqual(a);
    const b = store.addFolder('/photos/b');
    store.setFolderStatus(b.id, 'offline');
    expect(store.listFolders()).toEqual([a, { ...b, status: 'offline' }]);
    expect(store.getFolder(b.id)).toEqual({ ...b, status: 'offline' });
    expect(store.getFolder(999)).toBeNull();
    expect(store.removeFolder(a.id)).toBe(true);
    expect(store.removeFolder(a.id)).toBe(false);
    expect(store.listFolders()).toEqual([{ ...b, status: 'offline' }]);
    expect(store.path).toBe(':memory:');
  });

  it('upserts photos by path and reads them back whole', () => {
    const f = store.addFolder('/p');
    const id = store.upsertPhoto(photo(f.id, '/p/x.jpg', { takenAt: '2008-05-30T15:56:01' }));
    const expected = {
      id,
      folderId: f.id,
      path: '/p/x.jpg',
      size: 1234,
      mtimeMs: 1_700_000_000_123.5,
      hash: 'hash-/p/x.jpg',
      width: 640,
      height: 480,
      format: 'jpeg',
      takenAt: '2008-05-30T15:56:01',
      orientation: 1,
      status: 'indexed',
      error: null,
    };
    expect(store.getPhoto(id)).toEqual(expected);
    expect(store.getPhotoByPath('/p/x.jpg')).toEqual({ ...expected, dev: 2049, ino: 77, indexedAt: 1_700_000_001_000 });

    // Same path: same id, new values.
    const again = store.upsertPhoto(
      photo(f.id, '/p/x.jpg', {
        size: 1,
        hash: null,
        width: null,
        height: null,
        format: null,
        orientation: null,
        status: 'error',
        error: 'Empty file (0 bytes)',
        dev: null,
        ino: null,
      }),
    );
    expect(again).toBe(id);
    expect(store.photosInFolder(f.id)).toEqual([
      {
        ...expected,
        size: 1,
        hash: null,
        width: null,
        height: null,
        format: null,
        takenAt: null,
        orientation: null,
        status: 'error',
        error: 'Empty file (0 bytes)',
        dev: null,
        ino: null,
        indexedAt: 1_700_000_001_000,
      },
    ]);
    expect(store.listErrors()).toEqual([{ path: '/p/x.jpg', reason: 'Empty file (0 bytes)' }]);
    expect(store.getPhoto(12345)).toBeNull();
    expect(store.getPhotoByPath('/nope')).toBeNull();
  });

  it('counts, pages and sorts indexed photos', () => {
    const f = store.addFolder('/p');
    const ids = {
      c: store.upsertPhoto(photo(f.id, '/p/a/c.jpg', { takenAt: '2001-01-01T00:00:00' })),
      b: store.upsertPhoto(photo(f.id, '/p/z/B.jpg', { takenAt: null, mtimeMs: Date.UTC(1999, 0, 1) })),
      a: store.upsertPhoto(photo(f.id, '/p/m/a.jpg', { takenAt: '2010-06-01T12:00:00' })),
      err: store.upsertPhoto(photo(f.id, '/p/e.jpg', { status: 'error', error: 'bad' })),
      gone: store.upsertPhoto(photo(f.id, '/p/g.jpg')),
    };
    store.markMissing([ids.gone]);
    expect(store.countPhotos()).toBe(5);
    expect(store.countPhotos({ status: 'indexed' })).toBe(3);
    expect(store.countPhotos({ status: 'missing' })).toBe(1);
    expect(store.countPhotos({ status: 'error' })).toBe(1);

    const order = (sort: 'name' | 'date' | 'path') => store.listPhotos({ sort }).photos.map((p) => p.id);
    expect(order('name')).toEqual([ids.a, ids.b, ids.c]);
    expect(order('date')).toEqual([ids.b, ids.c, ids.a]);
    expect(order('path')).toEqual([ids.c, ids.a, ids.b]);

    const page = store.listPhotos({ sort: 'path', offset: 1, limit: 1 });
    expect(page.total).toBe(3);
    expect(page.photos).toEqual([store.getPhoto(ids.a)]);

    store.deletePhotos([ids.err, ids.gone]);
    expect(store.countPhotos()).toBe(3);
    expect(store.listErrors()).toEqual([]);
  });

  it("lays out every indexed photo in listPhotos' order, packed, with the date sort's months", () => {
    const f = store.addFolder('/p');
    const add = (p: string, over: Partial<PhotoRecord>) => store.upsertPhoto(photo(f.id, p, over));
    const ids = [
      add('/p/a.jpg', { takenAt: '2024-03-05T10:00:00', width: 4000, height: 3000 }),
      add('/p/b.jpg', { takenAt: null, mtimeMs: Date.UTC(2024, 2, 20), width: 3000, height: 4000 }),
      add('/p/c.jpg', { takenAt: '2024-01-31T23:59:59+09:00', width: 12_000, height: 100 }),
      add('/p/d.jpg', { takenAt: '2023-12-24T08:00:00', width: null, height: null }),
      add('/p/e.jpg', { takenAt: '2024-03-01T00:00:00', width: 1, height: 1000 }),
    ];
    add('/p/broken.jpg', { status: 'error', error: 'bad', width: null, height: null });
    store.markMissing([add('/p/gone.jpg', {})]);
    const unpack = (sort: 'name' | 'date' | 'path') => {
      const layout = store.photoLayout({ sort });
      expect(layout.ids.byteLength).toBe(layout.count * 4);
      expect(layout.aspects.byteLength).toBe(layout.count * 2);
      return {
        ...layout,
        ids: [...new Uint32Array(layout.ids.buffer, layout.ids.byteOffset, layout.count)],
        aspects: [...new Uint16Array(layout.aspects.buffer, layout.aspects.byteOffset, layout.count)],
      };
    };
    for (const sort of ['name', 'date', 'path'] as const) {
      const layout = unpack(sort);
      expect(layout.count).toBe(5);
      expect(layout.ids, sort).toEqual(store.listPhotos({ sort }).photos.map((p) => p.id));
    }
    const byDate = unpack('date');
    expect(byDate.ids).toEqual([ids[3], ids[2], ids[4], ids[0], ids[1]]);
    // width / height x 1000; no size is 0; a panorama (120:1) and a sliver (1:1000) are clamped to 64 and 1/64.
    expect(byDate.aspects).toEqual([0, 64_000, 16, 1333, 750]);
    // The months of the sort key (the EXIF date as recorded, else the mtime in UTC), contiguous, in order.
    expect(byDate.sections).toEqual([
      { key: '2023-12', start: 0, count: 1 },
      { key: '2024-01', start: 1, count: 1 },
      { key: '2024-03', start: 2, count: 3 },
    ]);
    expect(unpack('name').sections).toEqual([]);
    expect(unpack('path').sections).toEqual([]);
    // The grid's pages: photos by id in the order asked, unknown ids left out.
    expect(store.getPhotos([ids[4]!, 999_999, ids[0]!]).map((p) => p.path)).toEqual(['/p/e.jpg', '/p/a.jpg']);
    expect(store.getPhotos([])).toEqual([]);
    store.deletePhotos(ids);
    expect(unpack('date')).toMatchObject({ count: 0, ids: [], aspects: [], sections: [] });
  });

  it('lays out a large library in one pass over the photos and one sort (and one to count the months)', () => {
    // As the other hot queries: the planner's choice on 20,000 photos, before and after ANALYZE. No correlated
    // subquery and no second pass per photo (the sort itself cannot use an index: its keys are expressions).
    const f = store.addFolder('/big');
    store.transaction(() => {
      for (let i = 0; i < 20_000; i++)
        store.upsertPhoto(
          photo(f.id, `/big/${i % 50}/${i}.jpg`, {
            hash: `h${i}`,
            status: i % 10 ? 'indexed' : 'error',
            takenAt: i % 3 ? `20${String(i % 24).padStart(2, '0')}-0${(i % 9) + 1}-01T00:00:00` : null,
          }),
        );
    });
    for (const when of ['without statistics', 'after ANALYZE']) {
      if (when === 'after ANALYZE') store.db.exec('ANALYZE');
      const plan = (sql: string) =>
        (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
      for (const sort of ['name', 'date', 'path'] as const)
        expect(plan(photoLayoutSql(sort)), `${sort} ${when}`).toMatch(
          /^(SCAN photos|SEARCH photos USING INDEX photos_status \(status=\?\)|SCAN photos USING INDEX sqlite_autoindex_photos_1)( \| USE TEMP B-TREE FOR ORDER BY)?$/,
        );
      // The date sort's months: one more pass, grouped by a sort of the month keys.
      expect(plan(PHOTO_MONTHS_SQL), when).toMatch(
        /^(SCAN photos|SEARCH photos USING INDEX photos_status \(status=\?\)) \| USE TEMP B-TREE FOR GROUP BY$/,
      );
    }
    const layout = store.photoLayout({ sort: 'date' });
    expect(layout.count).toBe(18_000);
    expect(layout.sections.reduce((n, s) => n + s.count, 0)).toBe(18_000);
    expect(layout.sections.map((s) => s.key)).toEqual([...layout.sections.map((s) => s.key)].sort());
    // The months' runs are those of the photos as listPhotos orders them, each photo in its own month.
    const listed = [0, 10_000].flatMap((offset) => store.listPhotos({ sort: 'date', offset, limit: 10_000 }).photos);
    const monthOf = (p: { takenAt: string | null; mtimeMs: number }) =>
      (p.takenAt ?? new Date(p.mtimeMs).toISOString()).slice(0, 7);
    for (const section of layout.sections)
      for (const p of listed.slice(section.start, section.start + section.count)) expect(monthOf(p)).toBe(section.key);
  });

  it('groups exact duplicates by hash, indexed photos only', () => {
    const f = store.addFolder('/p');
    const a = store.upsertPhoto(photo(f.id, '/p/a.jpg', { hash: 'h1' }));
    const b = store.upsertPhoto(photo(f.id, '/p/b.jpg', { hash: 'h1' }));
    store.upsertPhoto(photo(f.id, '/p/c.jpg', { hash: 'h2' }));
    const d = store.upsertPhoto(photo(f.id, '/p/d.jpg', { hash: 'h2' }));
    store.markMissing([d]);
    const e = store.upsertPhoto(photo(f.id, '/p/e.jpg', { hash: 'h0' }));
    const g = store.upsertPhoto(photo(f.id, '/p/g.jpg', { hash: 'h0' }));
    const h = store.upsertPhoto(photo(f.id, '/p/h.jpg', { hash: 'h0' }));
    store.upsertPhoto(photo(f.id, '/p/n1.jpg', { hash: null }));
    store.upsertPhoto(photo(f.id, '/p/n2.jpg', { hash: null }));
    expect(store.photosByHash()).toEqual([
      { hash: 'h0', ids: [e, g, h] },
      { hash: 'h1', ids: [a, b] },
    ]);
  });

  it('round-trips vectors bit-exactly and packs them for search', () => {
    const f = store.addFolder('/p');
    const m = store.ensureModel({ name: 'ae-v1', dim: 4, inputSize: 32 });
    expect(store.ensureModel({ name: 'ae-v1', dim: 4, inputSize: 32 })).toBe(m);
    const p1 = store.upsertPhoto(photo(f.id, '/p/1.jpg'));
    const p2 = store.upsertPhoto(photo(f.id, '/p/2.jpg'));
    const p3 = store.upsertPhoto(photo(f.id, '/p/3.jpg'));
    // Awkward values: NaN payload, -0, subnormal, extremes.
    const v1 = new Float32Array([Number.NaN, -0, 1.4e-45, 3.4028234663852886e38]);
    const bytes = new Uint8Array(v1.buffer).slice();
    const v2 = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    store.putVector(p1, m, v1);
    store.putVector(p2, m, v2);
    store.putVector(p3, m, v2);
    store.markMissing([p3]);

    expect(new Uint8Array(store.getVector(p1, m)!.buffer)).toEqual(bytes);
    expect(store.getVector(p2, m)).toEqual(v2);
    expect(store.getVector(p1, m + 1)).toBeNull();

    const all = store.allVectors(m);
    expect(all.dim).toBe(4);
    expect(Array.from(all.ids)).toEqual([p1, p2]);
    expect(new Uint8Array(all.vectors.buffer)).toEqual(new Uint8Array([...bytes, ...new Uint8Array(v2.buffer)]));

    expect(() => store.putVector(p1, m, new Float32Array(3))).toThrow(DoppelError);

    // A model whose shape changed loses its stale vectors.
    expect(store.ensureModel({ name: 'ae-v1', dim: 8, inputSize: 32 })).toBe(m);
    expect(store.allVectors(m)).toEqual({ dim: 8, ids: new Int32Array(0), vectors: new Float32Array(0) });

    store.putVector(p1, m, new Float32Array(8).fill(1));
    store.deleteVectorsForModel(m);
    expect(store.getVector(p1, m)).toBeNull();
  });

  it('keeps corner views as 8-bit vectors of the same direction, per fraction, gone with their photo', () => {
    const f = store.addFolder('/p');
    const m = store.ensureModel({ name: 'ae-v1', dim: 64, inputSize: 32 });
    const p1 = store.upsertPhoto(photo(f.id, '/p/1.jpg'));
    const p2 = store.upsertPhoto(photo(f.id, '/p/2.jpg'));
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const views = Array.from({ length: 4 }, () => Float32Array.from({ length: 64 }, () => rand() * 3));
    store.putViews(p1, m, 0.75, views);
    const back = store.getViews(p1, m, 0.75)!;
    expect(back).toHaveLength(4);
    const cos = (a: Float32Array, b: Float32Array) => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i]! * b[i]!, aa + a[i]! ** 2, bb + b[i]! ** 2];
      return ab / Math.sqrt(aa * bb);
    };
    back.forEach((v, i) => expect(cos(v, views[i]!)).toBeGreaterThan(0.999));
    // Views made with another fraction are not these views.
    expect(store.getViews(p1, m, 0.6)).toBeNull();
    expect(store.getViews(p2, m, 0.75)).toBeNull();
    expect([...store.photoIdsWithViews(f.id, m, 0.75)]).toEqual([p1]);
    expect(() => store.putViews(p2, m, 0.75, [new Float32Array(3)])).toThrow(/64 values/);
    const page = (after: number) => store.viewsPage(m, 0.75, after, 10).map(([id, v]) => [id, v.length]);
    expect(page(-Infinity)).toEqual([[p1, 4]]);
    expect(page(p1)).toEqual([]);
    store.deletePhotos([p1]);
    expect(store.photoIdsWithViews(f.id, m, 0.75).size).toBe(0);
  });

  it('keeps encoded views with the content they were made from, gone with their photo and with the model', () => {
    const f = store.addFolder('/p');
    const m = store.ensureModel({ name: 'ae-v1', dim: 8, inputSize: 32 });
    const p1 = store.upsertPhoto(photo(f.id, '/p/1.jpg'));
    const views = [1, 2, 3, 4].map((k) => Float32Array.from({ length: 8 }, (_, i) => (i % k) - 1.5));
    const stored = store.putEncodedViews(p1, m, 0.75, 'hash-one', views);
    const back = store.getEncodedViews(p1, m, 0.75, 'hash-one')!;
    expect(back).toHaveLength(4);
    // What put returns is what get reads back: the quantised views.
    expect(stored).toEqual(back);
    back.forEach((v, i) => expect(cosine(v, views[i]!)).toBeGreaterThan(0.99));
    // Made from other content (the photo changed since), or with another fraction: not these views.
    expect(store.getEncodedViews(p1, m, 0.75, 'hash-two')).toBeNull();
    expect(store.getEncodedViews(p1, m, 0.6, 'hash-one')).toBeNull();
    // Made again from the new content: replaced.
    store.putEncodedViews(p1, m, 0.75, 'hash-two', views.slice().reverse());
    expect(store.getEncodedViews(p1, m, 0.75, 'hash-one')).toBeNull();
    expect(cosine(store.getEncodedViews(p1, m, 0.75, 'hash-two')![0]!, views[3]!)).toBeGreaterThan(0.99);
    expect(() => store.putEncodedViews(p1, m, 0.75, 'h', [new Float32Array(3)])).toThrow(/8 values/);
    store.deleteVectorsForModel(m);
    expect(store.getEncodedViews(p1, m, 0.75, 'hash-two')).toBeNull();
    store.putEncodedViews(p1, m, 0.75, 'hash-two', views);
    store.deletePhotos([p1]);
    expect(store.getEncodedViews(p1, m, 0.75, 'hash-two')).toBeNull();
    // A scan that encoded views for a photo another process removed meanwhile: nothing stored, no error.
    expect(() => store.putEncodedViews(p1, m, 0.75, 'hash-two', views)).not.toThrow();
    expect(store.db.prepare('SELECT COUNT(*) FROM encoded_views').pluck().get()).toBe(0);
  });

  it('keeps turned views per photo and model, gone with their photo and with the model', () => {
    const f = store.addFolder('/p');
    const m = store.ensureModel({ name: 'ae-v1', dim: 8, inputSize: 32 });
    const p1 = store.upsertPhoto(photo(f.id, '/p/1.jpg'));
    const p2 = store.upsertPhoto(photo(f.id, '/p/2.jpg'));
    const turns = [Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Float32Array.from([-8, 7, -6, 5, -4, 3, -2, 1])];
    store.putTurns(p1, m, turns);
    const back = store.getTurns(p1, m)!;
    expect(back).toHaveLength(2);
    back.forEach((v, i) => expect(cosine(v, turns[i]!)).toBeGreaterThan(0.999));
    expect(store.getTurns(p2, m)).toBeNull();
    expect([...store.photoIdsWithTurns(f.id, m)]).toEqual([p1]);
    expect(() => store.putTurns(p2, m, [new Float32Array(3)])).toThrow(/8 values/);
    expect(store.turnsPage(m, -Infinity, 10).map(([id, v]) => [id, v.length])).toEqual([[p1, 2]]);
    expect(store.turnsPage(m, p1, 10)).toEqual([]);
    store.deleteVectorsForModel(m);
    expect(store.getTurns(p1, m)).toBeNull();
    store.putTurns(p2, m, turns);
    store.deletePhotos([p2]);
    expect(store.photoIdsWithTurns(f.id, m).size).toBe(0);
  });

  it('keeps the verifier measures by content-hash pair and version, in either order', () => {
    expect(store.getVerdict('aa', 'bb', 1)).toBeNull();
    store.putVerdicts([{ hashA: 'aa', hashB: 'bb', measure: '{"same":true}' }], 1);
    expect(store.getVerdict('bb', 'aa', 1)).toBe('{"same":true}');
    // Another verifier version measures again.
    expect(store.getVerdict('aa', 'bb', 2)).toBeNull();
    store.putVerdicts([{ hashA: 'aa', hashB: 'bb', measure: '{"same":false}' }], 2);
    expect(store.getVerdict('aa', 'bb', 2)).toBe('{"same":false}');
    expect(store.getVerdict('aa', 'bb', 1)).toBeNull();
    expect(() => store.putVerdicts([{ hashA: 'bb', hashB: 'aa', measure: '{}' }], 2)).toThrow(/hashA < hashB/);
  });

  it('removing a folder cascades to its photos and their vectors', () => {
    const keep = store.addFolder('/keep');
    const drop = store.addFolder('/drop');
    const m = store.ensureModel({ name: 'm', dim: 2, inputSize: 32 });
    const kp = store.upsertPhoto(photo(keep.id, '/keep/1.jpg'));
    const dp = store.upsertPhoto(photo(drop.id, '/drop/1.jpg'));
    store.putVector(kp, m, new Float32Array([1, 2]));
    store.putVector(dp, m, new Float32Array([3, 4]));
    store.removeFolder(drop.id);
    expect(store.getPhoto(dp)).toBeNull();
    expect(store.photosInFolder(drop.id)).toEqual([]);
    expect(store.db.prepare('SELECT photo_id FROM vectors').pluck().all()).toEqual([kp]);
  });

  it('stores settings and runs transactions', () => {
    expect(store.getSetting('k')).toBeNull();
    store.setSetting('k', 'v1');
    store.setSetting('k', 'v2');
    expect(store.getSetting('k')).toBe('v2');
    expect(() =>
      store.transaction(() => {
        store.setSetting('k', 'v3');
        throw new Error('rollback');
      }),
    ).toThrow('rollback');
    expect(store.getSetting('k')).toBe('v2');
    expect(store.transaction(() => 42)).toBe(42);
  });

  it('looks photos up by path and by hash through indexes', () => {
    const plan = (sql: string) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('x') as { detail: string }[]).map((r) => r.detail).join('\n');
    expect(plan('SELECT * FROM photos WHERE path = ?')).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_photos_/);
    expect(plan('SELECT * FROM photos WHERE hash = ?')).toMatch(/USING (COVERING )?INDEX photos_hash/);
    expect(plan('SELECT id FROM photos WHERE folder_id = ?')).toMatch(/USING (COVERING )?INDEX photos_folder/);
  });

  it('finds a vector by hash or folder through the photo indexes on a large library, with statistics or without', () => {
    // The planner's choice can differ on a large table and after ANALYZE: measure on 20,000 photos, as a library is.
    const f = store.addFolder('/big');
    const g = store.addFolder('/other');
    const model = store.ensureModel({ name: 'm', dim: 4, inputSize: 32 });
    store.transaction(() => {
      for (let i = 0; i < 20_000; i++) {
        const id = store.upsertPhoto(
          photo(i % 2 ? f.id : g.id, `${i % 2 ? '/big' : '/other'}/${i}.jpg`, { hash: `h${i}` }),
        );
        store.putVector(id, model, new Float32Array([i, 1, 2, 3]));
        store.putViews(id, model, 0.5, [new Float32Array([i, 1, 2, 3])]);
        store.putTurns(id, model, [new Float32Array([i, 1, 2, 3])]);
      }
    });
    const statements = store['s'];
    const plans = () =>
      Object.fromEntries(
        (
          ['vectorByHash', 'vectorIdsInFolder', 'viewIdsInFolder', 'turnIdsInFolder', 'viewsPage', 'turnsPage'] as const
        ).map((name) => {
          const sql = statements[name].source;
          const args = (sql.match(/\?/g) ?? []).map(() => 1);
          const rows = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[];
          return [name, rows.map((r) => r.detail).join(' | ')];
        }),
      );
    for (const when of ['without statistics', 'after ANALYZE']) {
      if (when === 'after ANALYZE') store.db.exec('ANALYZE');
      const p = plans();
      expect(p.vectorByHash, when).toMatch(
        /^SEARCH p USING INDEX photos_hash .*SEARCH v USING (INDEX sqlite_autoindex_vectors_1|PRIMARY KEY)/,
      );
      // A page of views starts at its first photo and reads its rows in id order: no sort, no pass over the table.
      for (const name of ['viewsPage', 'turnsPage'])
        expect(p[name], `${name} ${when}`).toMatch(
          /^SEARCH [wt] USING (INDEX sqlite_autoindex_\w+|PRIMARY KEY) \(photo_id>\?\).*SEARCH p USING INTEGER PRIMARY KEY/,
        );
      for (const name of ['vectorIdsInFolder', 'viewIdsInFolder', 'turnIdsInFolder'])
        expect(p[name], `${name} ${when}`).toMatch(
          /^SEARCH p USING (COVERING )?INDEX photos_folder .*(sqlite_autoindex_|PRIMARY KEY)/,
        );
    }
    expect(store.vectorByHash('h12345', model)?.vector[0]).toBe(12345);
    const pages: number[] = [];
    for (let after = -Infinity, page; (page = store.viewsPage(model, 0.5, after, 7_000)).length > 0;) {
      pages.push(page.length);
      after = page[page.length - 1]![0];
    }
    expect(pages).toEqual([7_000, 7_000, 6_000]);
    expect(store.photoIdsWithVector(f.id, model).size).toBe(10_000);
  });
});
