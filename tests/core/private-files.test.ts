// What a library writes about the user's photos (the database with every path, thumbnails of every photo) is
// readable by the user alone, and a library made with looser modes is tightened when it is opened.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, photos, REPO, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-private-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

function everyFile(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f)));
}

describe('private library files', () => {
  const libraryDir = path.join(tmp, 'data', 'doppel');
  const dbPath = path.join(libraryDir, 'library.sqlite');
  const thumbs = path.join(libraryDir, 'thumbnails');

  it('creates the library folder, database and thumbnails for the owner only', async () => {
    const lib = path.join(tmp, 'photos');
    copyInto(photos('CSet14', 2), lib);
    const service = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
    try {
      await service.addFolder(lib);
      const summary = await service.indexAll();
      expect(summary.added).toBe(2);
      expect(modeOf(libraryDir)).toBe(0o700);
      expect(modeOf(dbPath)).toBe(0o600);
      expect(modeOf(`${dbPath}-wal`)).toBe(0o600);
      expect(modeOf(thumbs)).toBe(0o700);
      const written = everyFile(thumbs);
      expect(written.filter((f) => fs.statSync(f).isFile()).length).toBeGreaterThanOrEqual(2);
      for (const f of written) expect(modeOf(f), f).toBe(fs.statSync(f).isDirectory() ? 0o700 : 0o600);
    } finally {
      await service.close();
    }
  });

  it('tightens a library whose files others could read', async () => {
    fs.chmodSync(dbPath, 0o644);
    fs.chmodSync(thumbs, 0o755);
    const service = await DoppelService.open({ dbPath, modelsDir: path.join(REPO, 'models') });
    try {
      expect(modeOf(dbPath)).toBe(0o600);
      expect(modeOf(thumbs)).toBe(0o700);
      expect((await service.info()).photos).toBe(2);
    } finally {
      await service.close();
    }
  });
});
