// Migration 0020 (reference folders, "not a duplicate" answers, the action log) and the duplicate settings,
// on real SQLite databases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSettings, updateSettings } from '../../src/core/settings.js';
import { openDatabase } from '../../src/core/store/db.js';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../src/core/store/migrations/index.js';
import { Store } from '../../src/core/store/repository.js';

const columns = (db: BetterSqlite3.Database, table: string) =>
  (db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; pk: number }[]).map(
    (c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.pk ? ` PK${c.pk}` : ''}`,
  );

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-store-dupes-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A library file migrated up to `version` only, holding the rows `inserts` add: what an older Doppel left. */
function libraryAt(version: number, inserts: readonly string[]): string {
  const file = path.join(tmp, `v${version}.sqlite`);
  const raw = new BetterSqlite3(file);
  migrate(
    raw,
    MIGRATIONS.filter((m) => m.version <= version),
  );
  for (const sql of inserts) raw.prepare(sql).run();
  raw.close();
  return file;
}

describe('migration 0020-duplicates', () => {
  it('creates the duplicate tables on :memory:', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(columns(db, 'not_duplicates')).toEqual([
      'hash_a TEXT NOT NULL PK1',
      'hash_b TEXT NOT NULL PK2',
      'created_at INTEGER NOT NULL',
    ]);
    expect(columns(db, 'actions')).toEqual([
      'id INTEGER PK1',
      'kind TEXT NOT NULL',
      'trasher TEXT NOT NULL',
      'created_at INTEGER NOT NULL',
      'undone_at INTEGER',
    ]);
    expect(columns(db, 'action_files')).toEqual([
      'id INTEGER PK1',
      'action_id INTEGER NOT NULL',
      'folder_id INTEGER',
      'path TEXT NOT NULL',
      'hash TEXT',
      'size INTEGER NOT NULL',
      'trash_path TEXT',
      'info_path TEXT',
      'deleted_at TEXT',
      'restored_at INTEGER',
      // 0080-trash-journal
      'state TEXT NOT NULL',
      'created_at INTEGER',
      // 0090-follow-symlinks
      'link_target TEXT',
    ]);
    expect(() => db.prepare("INSERT INTO not_duplicates VALUES ('b', 'a', 1)").run()).toThrow(/CHECK/);
    db.close();
  });

  it('upgrades a version-70 action log to the journal: logged files are trashed, dated by their action', () => {
    const file = libraryAt(70, [
      "INSERT INTO actions (kind, trasher, created_at) VALUES ('trash', 'freedesktop', 1234)",
      "INSERT INTO action_files (action_id, path, size, trash_path) VALUES (1, '/p/a.jpg', 3, '/t/files/a')",
    ]);
    const store = Store.open(file);
    expect(store.lastOpenAction()!.files).toMatchObject([{ path: '/p/a.jpg', state: 'trashed', createdAt: 1234 }]);
    expect(store.movingActionFiles()).toEqual([]);
    store.close();
  });

  it('upgrades a version-10 library file, keeping its folders as ordinary folders', () => {
    const file = libraryAt(10, ["INSERT INTO folders (path, added_at) VALUES ('/photos', 5)"]);
    const store = Store.open(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(store.listFolders()).toEqual([
      { id: 1, path: '/photos', addedAt: 5, status: 'online', reference: false, followSymlinks: false },
    ]);
    store.close();
  });
});

describe('migration 0090-follow-symlinks', () => {
  it('upgrades a version-80 library: its folders do not follow links and its logged files are not links', () => {
    const file = libraryAt(80, [
      "INSERT INTO folders (path, added_at) VALUES ('/photos', 5)",
      "INSERT INTO actions (kind, trasher, created_at) VALUES ('trash', 'freedesktop', 1234)",
      "INSERT INTO action_files (action_id, path, size, trash_path) VALUES (1, '/photos/a.jpg', 3, '/t/a')",
    ]);
    const store = Store.open(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    const [folder] = store.listFolders();
    expect(folder).toEqual({
      id: 1,
      path: '/photos',
      addedAt: 5,
      status: 'online',
      reference: false,
      followSymlinks: false,
    });
    expect(store.lastOpenAction()!.files).toMatchObject([{ path: '/photos/a.jpg', linkTarget: null }]);
    expect(store.setFolderFollowSymlinks(1, true)).toEqual({ ...folder, followSymlinks: true });
    expect(store.getFolderByPath('/photos')!.followSymlinks).toBe(true);
    expect(store.setFolderFollowSymlinks(999, true)).toBeNull();
    expect(() => store.db.prepare('UPDATE folders SET follow_symlinks = 2').run()).toThrow(/CHECK/);
    store.close();
  });
});

describe('Store: duplicate review', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('marks and unmarks reference folders', () => {
    const f = store.addFolder('/photos/originals');
    expect(store.setFolderReference(f.id, true)).toEqual({ ...f, reference: true });
    expect(store.listFolders()).toEqual([{ ...f, reference: true }]);
    expect(store.setFolderReference(f.id, false)).toEqual(f);
    expect(store.setFolderReference(999, true)).toBeNull();
  });

  it('stores each "not a duplicate" pair once, in either order', () => {
    store.addNotDuplicate('bbb', 'aaa');
    store.addNotDuplicate('aaa', 'bbb');
    store.addNotDuplicate('ccc', 'ccc');
    expect(store.notDuplicatePairs()).toEqual([
      { hashA: 'aaa', hashB: 'bbb' },
      { hashA: 'ccc', hashB: 'ccc' },
    ]);
    expect(store.removeNotDuplicate('bbb', 'aaa')).toBe(true);
    expect(store.removeNotDuplicate('bbb', 'aaa')).toBe(false);
    expect(store.notDuplicatePairs()).toEqual([{ hashA: 'ccc', hashB: 'ccc' }]);
  });

  it('logs actions file by file and finds the last one not undone through its index', () => {
    const f = store.addFolder('/p');
    const first = store.beginAction('trash', 'freedesktop');
    const file = {
      actionId: first,
      folderId: f.id,
      path: '/p/a.jpg',
      hash: 'h1',
      size: 10,
      trashPath: '/t/files/x',
      infoPath: '/t/info/x.trashinfo',
      deletedAt: '2026-01-01T10:00:00',
    };
    const fileId = store.addActionFile(file);
    const second = store.beginAction('trash', 'freedesktop');
    expect(store.dropEmptyAction(first)).toBe(false);
    expect(store.dropEmptyAction(second)).toBe(true);
    expect(store.lastOpenAction()).toEqual({
      id: first,
      kind: 'trash',
      trasher: 'freedesktop',
      createdAt: expect.any(Number),
      undoneAt: null,
      files: [
        { ...file, id: fileId, restoredAt: null, state: 'trashed', createdAt: expect.any(Number), linkTarget: null },
      ],
    });
    store.markActionFileRestored(fileId, 123);
    store.markActionUndone(first, 456);
    expect(store.lastOpenAction()).toBeNull();
    expect(store.getAction(first)).toMatchObject({ undoneAt: 456, files: [{ restoredAt: 123 }] });
    // The folder leaving the library keeps the log row, without its folder.
    store.removeFolder(f.id);
    expect(store.getAction(first)!.files[0]!.folderId).toBeNull();
    const plan = (
      store.db
        .prepare('EXPLAIN QUERY PLAN SELECT * FROM actions WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1')
        .all() as { detail: string }[]
    )
      .map((r) => r.detail)
      .join('\n');
    expect(plan).toMatch(/USING (COVERING )?INDEX actions_open/);
  });
});

describe('duplicate settings', () => {
  let store: Store;
  const defaults = { near: 0.97, similar: 0.9, fromModelCard: false };
  beforeEach(() => {
    store = Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('default to the model thresholds and the built-in keeper rules', () => {
    expect(readSettings(store, 'm1', defaults)).toEqual({
      nearThreshold: 0.97,
      similarThreshold: 0.9,
      keeperRules: ['original', 'resolution', 'exif', 'oldest', 'format', 'file-size', 'preferred-folder'],
      formatPreference: ['raw', 'heif', 'tiff', 'png', 'webp', 'jpeg', 'gif'],
      preferredFolders: [],
      exclude: [],
      watch: true,
      findCroppedCopies: false,
      cropViewsAvailable: false,
      defaults: { nearThreshold: 0.97, similarThreshold: 0.9 },
      sources: { nearThreshold: 'fallback', similarThreshold: 'fallback' },
    });
    // Finding cropped copies needs a model whose card fitted and calibrated corner views.
    expect(() => updateSettings(store, 'm1', defaults, { findCroppedCopies: true })).toThrow(
      /no fitted and calibrated corner views/,
    );
    const withViews = { ...defaults, fromModelCard: true, cropViews: true };
    expect(updateSettings(store, 'm1', withViews, { findCroppedCopies: true })).toMatchObject({
      findCroppedCopies: true,
      cropViewsAvailable: true,
    });
    // On by default where the model offers it; per model: another model's library setting is its own.
    expect(updateSettings(store, 'm2', withViews, { findCroppedCopies: false }).findCroppedCopies).toBe(false);
    expect(readSettings(store, 'm1', withViews).findCroppedCopies).toBe(true);
    expect(readSettings(store, 'm3', withViews).findCroppedCopies).toBe(true);
    expect(updateSettings(store, 'm2', withViews, { findCroppedCopies: null }).findCroppedCopies).toBe(true);
    expect(readSettings(store, 'm2', defaults).findCroppedCopies).toBe(false);
    expect(readSettings(store, 'm1', { ...defaults, fromModelCard: true }).sources).toEqual({
      nearThreshold: 'model-card',
      similarThreshold: 'model-card',
    });
  });

  it('persist per model, reset with null, and refuse what makes no sense', () => {
    const s = updateSettings(store, 'm1', defaults, {
      nearThreshold: 0.995,
      keeperRules: ['file-size', 'resolution'],
      formatPreference: [' PNG', 'jpeg', 'png'],
      preferredFolders: ['/keep/these'],
      exclude: ['**/Thumbs/**', ' *.gif ', '*.gif'],
      watch: false,
    });
    expect(s).toMatchObject({
      exclude: ['**/Thumbs/**', '*.gif'],
      watch: false,
      nearThreshold: 0.995,
      similarThreshold: 0.9,
      sources: { nearThreshold: 'setting', similarThreshold: 'fallback' },
      keeperRules: ['file-size', 'resolution'],
      formatPreference: ['png', 'jpeg'],
      preferredFolders: [path.resolve('/keep/these')],
    });
    // Another model has its own thresholds; the keeper rules are the library's.
    expect(readSettings(store, 'm2', defaults)).toMatchObject({
      nearThreshold: 0.97,
      keeperRules: ['file-size', 'resolution'],
    });
    expect(updateSettings(store, 'm1', defaults, { nearThreshold: null, keeperRules: null })).toMatchObject({
      nearThreshold: 0.97,
      keeperRules: ['original', 'resolution', 'exif', 'oldest', 'format', 'file-size', 'preferred-folder'],
    });
    expect(() => updateSettings(store, 'm1', defaults, { similarThreshold: 0.99 })).toThrow(
      expect.objectContaining({ kind: 'invalid-argument', message: expect.stringMatching(/must not be above/) }),
    );
    expect(() => updateSettings(store, 'm1', defaults, { nearThreshold: 2 })).toThrow(
      expect.objectContaining({ kind: 'invalid-argument' }),
    );
    expect(() => updateSettings(store, 'm1', defaults, { keeperRules: ['resolution', 'biggest'] as never })).toThrow(
      expect.objectContaining({ kind: 'invalid-argument', message: expect.stringMatching(/biggest/) }),
    );
    expect(() => updateSettings(store, 'm1', defaults, { exclude: ['x'.repeat(70_000)] })).toThrow(
      expect.objectContaining({ kind: 'invalid-argument', message: expect.stringMatching(/glob/) }),
    );
    expect(updateSettings(store, 'm1', defaults, { exclude: null, watch: null })).toMatchObject({
      exclude: [],
      watch: true,
    });
    expect(readSettings(store, 'm1', defaults).similarThreshold).toBe(0.9);
  });
});
