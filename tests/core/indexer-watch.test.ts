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

describe('watching follows the library', () => {
  it('watches a folder added while watching, and starts and stops with the watch setting', async () => {
    const first = path.join(tmp, 'first');
    const second = path.join(tmp, 'second');
    const sources = photos('CBSD68', 3);
    copyInto(sources.slice(0, 1), first);
    fs.mkdirSync(second, { recursive: true });
    const service = await DoppelService.open({
      dbPath: path.join(tmp, 'follow.sqlite'),
      modelsDir: defaultModelsDir(),
    });
    try {
      await service.addFolder(first);
      expect((await service.startWatching()).watching).toBe(true);
      await until(async () => (await service.info()).photos === 1);
      // A folder added while watching is watched (and scanned) without a restart.
      await service.addFolder(second);
      await until(async () => (await service.indexStatus()).watching);
      const [inSecond] = copyInto([sources[1]!], second);
      await until(async () => (await service.listPhotos({ limit: 10 })).photos.some((p) => p.path === inSecond));
      // Turning the setting off stops watching; turning it on again starts it.
      await service.updateSettings({ watch: false });
      expect((await service.indexStatus()).watching).toBe(false);
      // updateSettings resolved after the watcher closed and the sync it had started (if any) ended: from here no
      // change can start a run, so a file added now stays out until watching is on again. (A run still finishing
      // scanned before the copy: it found the file indexed above.)
      const [unseen] = copyInto([sources[2]!], second);
      await until(async () => (await service.indexStatus()).state === 'idle');
      expect((await service.listPhotos({ limit: 10 })).photos.map((p) => p.path)).not.toContain(unseen);
      await service.updateSettings({ watch: true });
      await until(async () => (await service.listPhotos({ limit: 10 })).photos.some((p) => p.path === unseen));
      expect((await service.indexStatus()).watching).toBe(true);
      // After stopWatching, settings changes no longer start it.
      await service.stopWatching();
      await service.updateSettings({ exclude: ['nothing/**'] });
      expect((await service.indexStatus()).watching).toBe(false);
    } finally {
      await service.close();
    }
  }, 120_000);
});
