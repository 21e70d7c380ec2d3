// DoppelService.startWatching/stopWatching: the polling fallback (network drives) keeps the library in sync too,
// the status reports watching, and the `watch` and `exclude` settings are honoured.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-watchsvc-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('watching through the service', () => {
  it('polls when asked to, honours exclude, reports watching, and stays off when the setting is off', async () => {
    const lib = path.join(tmp, 'photos');
    const sources = photos('CSun_Hays80', 4);
    copyInto(sources.slice(0, 2), lib);
    const service = await DoppelService.open({ dbPath: path.join(tmp, 'lib.sqlite'), modelsDir: defaultModelsDir() });
    try {
      await service.addFolder(lib);
      await service.updateSettings({ exclude: ['skip/**'] });
      const states: boolean[] = [];
      service.on('indexStatus', (s) => states.push(s.watching));
      const status = await service.startWatching({ polling: 'always' });
      expect(status.watching).toBe(true);
      expect((await service.indexStatus()).watching).toBe(true);
      // The rescan on start indexed what was there.
      expect((await service.info()).photos).toBe(2);

      const [added] = copyInto([sources[2]!], lib);
      const [skipped] = copyInto([sources[3]!], path.join(lib, 'skip'));
      await until(async () => (await service.listPhotos({ limit: 10 })).photos.some((p) => p.path === added));
      fs.rmSync(added!);
      await until(async () => (await service.info()).photos === 2);
      expect((await service.listPhotos({ limit: 10 })).photos.map((p) => p.path)).not.toContain(skipped);

      expect((await service.stopWatching()).watching).toBe(false);
      expect(states.at(-1)).toBe(false);

      await service.updateSettings({ watch: false });
      expect((await service.startWatching()).watching).toBe(false);
    } finally {
      await service.close();
    }
  }, 120_000);
});
