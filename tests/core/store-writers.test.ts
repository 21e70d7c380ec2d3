// The two-writer contract of src/core/store/db.ts: a transaction that reads before it writes takes the write lock
// first, so while another connection (the indexing worker, another process) writes and commits, it waits its turn
// instead of failing with SQLITE_BUSY on a stale snapshot.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/repository.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('doppel-writers-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Another connection that takes the write lock, writes, holds the lock for `holdMs`, then commits. Resolves once
 * it holds the lock, with a promise of the moment it committed.
 */
async function otherWriter(db: string, holdMs: number): Promise<{ committed: Promise<number> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec("BEGIN IMMEDIATE; INSERT OR REPLACE INTO settings (key, value) VALUES ('other.writer', '1')");
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec('COMMIT');
    process.stdout.write('committed ' + Date.now() + '\\n');`;
  const child = spawn(process.execPath, ['-e', script, db, String(holdMs)], {
    cwd: path.resolve('.'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const committed = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(/committed (\d+)/.exec(out)?.[1])) : reject(new Error(`writer exited ${code}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('locked\n')) resolve();
    });
    committed.catch(reject);
  });
  return { committed };
}

describe('two writers on one library', () => {
  it('removes a folder while another connection writes and commits, waiting for it instead of failing', async () => {
    const db = path.join(tmp, 'lib.sqlite');
    const store = Store.open(db);
    try {
      const folder = store.addFolder('/photos/a');
      const { committed } = await otherWriter(db, 1000);
      const started = Date.now();
      // Reads the folder's photos, then deletes: under a deferred transaction the other commit would make its
      // snapshot stale and the delete fail at once with SQLITE_BUSY.
      expect(store.removeFolder(folder.id)).toBe(true);
      expect(started).toBeLessThan(await committed); // it really ran while the other held the lock
      expect(store.listFolders()).toEqual([]);
      expect(store.getSetting('other.writer')).toBe('1');
    } finally {
      store.close();
    }
  });

  it('registers a new model while another connection writes and commits', async () => {
    const db = path.join(tmp, 'models.sqlite');
    const store = Store.open(db);
    try {
      const { committed } = await otherWriter(db, 1000);
      const started = Date.now();
      const id = store.ensureModel({ name: 'ae-new', dim: 8, inputSize: 32 });
      expect(started).toBeLessThan(await committed);
      expect(store.ensureModel({ name: 'ae-new', dim: 8, inputSize: 32 })).toBe(id);
    } finally {
      store.close();
    }
  });
});
