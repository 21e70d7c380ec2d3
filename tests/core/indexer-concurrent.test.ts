// Queries keep working while another process indexes: `doppel index` (the built CLI) indexes 2,000 real photos
// (imagenette's 224 px JPEGs) while this process asks 100 find-similar questions of the same library.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { DATA, REPO, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-concurrent-');
const lib = path.join(tmp, 'photos');
const db = path.join(tmp, 'library.sqlite');
const N = 2000;

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function imagenette(n: number): string[] {
  const root = path.join(DATA, 'imagenette');
  const files = (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .map((f) => path.join(root, f));
  return files.slice(0, n);
}

describe('queries while indexing', () => {
  it('answers 100 similar queries from another process while 2,000 photos are indexed', async () => {
    const files = imagenette(N + 100);
    expect(files.length).toBe(N + 100);
    fs.mkdirSync(lib);
    files.slice(0, N).forEach((f, i) => fs.copyFileSync(f, path.join(lib, `${String(i).padStart(4, '0')}.jpg`)));
    const queries = files.slice(N).map((f) => fs.readFileSync(f));

    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'doppel.js'), 'index', lib, '--db', db], {
      env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // Wait for the first committed batch, then query the library the child is writing.
    const deadline = Date.now() + 120_000;
    const countPhotos = async (s: DoppelService) => (await s.info()).photos;
    while (!fs.existsSync(db)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    const service = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
    try {
      while ((await countPhotos(service)) === 0) {
        expect(child.exitCode, stderr).toBeNull();
        await new Promise((r) => setTimeout(r, 50));
      }
      const seen: number[] = [];
      let duringIndexing = 0;
      for (let i = 0; i < 100; i++) {
        const results = await service.similarToImage(queries[i]!, 5);
        const photos = await countPhotos(service);
        expect(results.length).toBe(Math.min(5, photos));
        for (const r of results) expect(r.score).toBeGreaterThan(-1.0001);
        seen.push(photos);
        if (child.exitCode === null) duringIndexing++;
      }
      // The queries ran while the library grew under them.
      expect(duringIndexing, `library sizes seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(50);
      expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
      expect(await exited, stderr).toBe(0);
      expect(stderr).not.toMatch(/SQLITE_BUSY|database is locked/i);
      expect(await countPhotos(service)).toBe(N);
      // And after the run, the index knows every photo.
      const after = await service.similarToImage(queries[0]!, N + 10);
      expect(after).toHaveLength(N);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await service.close();
    }
  }, 600_000);
});
