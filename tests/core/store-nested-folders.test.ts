// Folders inside folders in the store: a photo belongs to the deepest library folder it is inside, a folder inside
// a reference folder is one too, and migration 0060 moves every photo of an older library to its deepest folder.
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/core/store/migrations/index.js';
import { Store, type PhotoRecord } from '../../src/core/store/repository.js';

const root = path.resolve('/library');
const at = (...parts: string[]): string => path.join(root, ...parts);

function record(folderId: number, p: string): PhotoRecord {
  return {
    folderId,
    path: p,
    size: 1,
    mtimeMs: 1,
    dev: 1,
    ino: 1,
    hash: `hash-${p}`,
    width: 1,
    height: 1,
    format: 'jpeg',
    takenAt: null,
    orientation: 1,
    status: 'indexed',
    error: null,
  };
}

const ownerOf = (store: Store, p: string): string | undefined =>
  store.getFolder(store.getPhotoByPath(p)!.folderId)?.path;

describe('nested library folders in the store', () => {
  it('give a folder added inside another the photos below it, and hand them back when it goes', () => {
    const store = Store.open(':memory:');
    const outer = store.addFolder(root);
    for (const p of [at('a.jpg'), at('ref', 'b.jpg'), at('ref', 'deep', 'c.jpg'), at('refx', 'd.jpg')]) {
      store.upsertPhoto(record(outer.id, p));
    }
    const inner = store.addFolder(at('ref'));
    expect(store.countPhotos()).toBe(4);
    expect(
      [at('a.jpg'), at('ref', 'b.jpg'), at('ref', 'deep', 'c.jpg'), at('refx', 'd.jpg')].map((p) => ownerOf(store, p)),
    ).toEqual([root, at('ref'), at('ref'), root]);
    expect(store.subfolders(outer.id)).toEqual([at('ref')]);
    expect(store.subfolders(inner.id)).toEqual([]);
    // Whichever folder's scan writes a photo, it lands in its deepest folder.
    store.upsertPhoto(record(outer.id, at('ref', 'e.jpg')));
    expect(ownerOf(store, at('ref', 'e.jpg'))).toBe(at('ref'));

    expect(store.photosRemovedWith(inner.id)).toEqual([]);
    store.removeFolder(inner.id);
    expect(store.countPhotos()).toBe(5);
    expect(ownerOf(store, at('ref', 'b.jpg'))).toBe(root);
    expect(store.photosRemovedWith(outer.id)).toHaveLength(5);
    store.removeFolder(outer.id);
    expect(store.countPhotos()).toBe(0);
    store.close();
  });

  it('count a folder inside a reference folder as a reference folder, whatever its own mark', () => {
    const store = Store.open(':memory:');
    const outer = store.addFolder(root);
    const inner = store.addFolder(at('sub'));
    const beside = store.addFolder(`${root}-other`);
    store.setFolderReference(outer.id, true);
    expect(store.listFolders().map((f) => [f.path, f.reference])).toEqual([
      [root, true],
      [`${root}-other`, false],
      [at('sub'), true],
    ]);
    expect(store.setFolderReference(inner.id, false)!.reference).toBe(true);
    store.setFolderReference(outer.id, false);
    expect(store.getFolder(inner.id)!.reference).toBe(false);
    expect(store.getFolder(beside.id)!.reference).toBe(false);
    store.close();
  });
});

describe('migration 0060 (nested folders)', () => {
  it('moves each photo and scan error of an older library to the deepest folder it is inside', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version < 60),
    );
    const folder = db.prepare('INSERT INTO folders (path, added_at) VALUES (?, 0) RETURNING id').pluck();
    const outer = folder.get(root) as number;
    const inner = folder.get(at('ref')) as number;
    const photo = db.prepare(
      "INSERT INTO photos (folder_id, path, size, mtime_ms, status, indexed_at) VALUES (?, ?, 1, 1, 'indexed', 0)",
    );
    // The outer folder scanned last: it holds everything, the reference folder's photos too.
    photo.run(outer, at('a.jpg'));
    photo.run(outer, at('ref', 'b.jpg'));
    photo.run(outer, at('ref', 'deep', 'c.jpg'));
    photo.run(inner, at('ref', 'd.jpg'));
    db.prepare('INSERT INTO scan_errors (folder_id, path, reason) VALUES (?, ?, ?)').run(outer, at('ref', 'x'), 'r');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 60),
    );
    expect(db.pragma('user_version', { simple: true })).toBe(60);
    expect(db.prepare('SELECT path, folder_id FROM photos ORDER BY path').raw().all()).toEqual([
      [at('a.jpg'), outer],
      [at('ref', 'b.jpg'), inner],
      [at('ref', 'd.jpg'), inner],
      [at('ref', 'deep', 'c.jpg'), inner],
    ]);
    expect(db.prepare('SELECT folder_id FROM scan_errors').pluck().all()).toEqual([inner]);
    db.close();
  });
});
