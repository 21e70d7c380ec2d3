// The `index` section of `npm run bench`: indexing speed.
// - library: the real photos of ../shared/data/photos indexed through DoppelService (photos/s, unchanged re-run).
// - twelveMegapixel: N of those photos re-encoded as 12-megapixel JPEGs (4000 x 3000, quality 90; cached in the
//   temp folder, not in git), indexed by `doppel index` (the built CLI, a fresh library, process start-up
//   included) and, in the same run on the same files with the same number of cores, by `vipsthumbnail -s 64`
//   (libvips' own thumbnailer: the decode floor) and `findimagedupes` (fingerprints in parallel slices, then
//   one compare), each as wall time. Tools that are not installed are reported as missing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { defaultModelsDir } from '../src/core/paths.js';
import { DoppelService } from '../src/core/service.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PHOTOS = path.resolve(ROOT, '../shared/data/photos');
const log = (m: string): void => void process.stderr.write(`${m}\n`);

function photoFiles(): string[] {
  return fs
    .readdirSync(PHOTOS, { recursive: true })
    .map((f) => path.join(PHOTOS, String(f)))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
}

async function libraryBench(): Promise<Record<string, unknown>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-bench-'));
  try {
    const service = await DoppelService.open({ dbPath: path.join(tmp, 'bench.sqlite'), modelsDir: defaultModelsDir() });
    const folder = await service.addFolder(PHOTOS);
    const first = await service.indexFolders([folder]);
    const second = await service.indexFolders([folder]);
    const info = await service.info();
    await service.close();
    return {
      photos: info.photos,
      model: info.model.name,
      backend: info.model.backend,
      firstRunSeconds: first.durationMs / 1000,
      photosPerSecond: Number((first.added / (first.durationMs / 1000)).toFixed(1)),
      unchangedRunSeconds: second.durationMs / 1000,
      unchangedToFirstRatio: Number((second.durationMs / first.durationMs).toFixed(4)),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** N photos as 12-megapixel JPEGs, made once and kept in the temp folder. */
async function twelveMegapixelSet(n: number): Promise<string[]> {
  const dir = path.join(os.tmpdir(), 'doppel-bench-12mp-v1');
  fs.mkdirSync(dir, { recursive: true });
  const sources = photoFiles().slice(0, n);
  const out: string[] = [];
  for (const [i, src] of sources.entries()) {
    const file = path.join(dir, `${String(i).padStart(4, '0')}.jpg`);
    if (!fs.existsSync(file)) {
      const meta = await sharp(src).metadata();
      const [w, h] = meta.width >= meta.height ? [4000, 3000] : [3000, 4000];
      const tmp = `${file}.tmp`;
      await sharp(src).resize(w, h, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(tmp);
      fs.renameSync(tmp, file);
    }
    out.push(file);
  }
  return out;
}

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

/** Wall seconds of fn. */
async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function slices<T>(items: readonly T[], k: number): T[][] {
  const out: T[][] = Array.from({ length: k }, () => []);
  items.forEach((item, i) => out[i % k]!.push(item));
  return out.filter((s) => s.length > 0);
}

async function twelveMegapixelBench(n: number): Promise<Record<string, unknown>> {
  const cores = os.availableParallelism();
  log(`index: preparing ${n} 12-megapixel JPEGs`);
  const cached = await twelveMegapixelSet(n);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-bench-12mp-run-'));
  // Exactly these N files in a folder of their own (hard links, or copies across file systems) for every tool.
  const dir = path.join(tmp, 'photos');
  fs.mkdirSync(dir);
  const files = cached.map((f) => {
    const link = path.join(dir, path.basename(f));
    try {
      fs.linkSync(f, link);
    } catch {
      fs.copyFileSync(f, link);
    }
    return link;
  });
  const result: Record<string, unknown> = { photos: files.length, megapixels: 12, cores };
  try {
    // Warm the page cache so that every tool reads the files from memory.
    for (const f of files) fs.readFileSync(f);

    log('index: doppel index');
    const doppelSeconds = await timed(() =>
      run(process.execPath, [path.join(ROOT, 'bin/doppel.js'), 'index', dir, '--db', path.join(tmp, 'lib.sqlite')], {
        ...process.env,
        DOPPEL_HOME: tmp,
      }),
    );
    result.doppel = {
      wallSeconds: Number(doppelSeconds.toFixed(2)),
      photosPerSecond: Number((n / doppelSeconds).toFixed(2)),
    };

    if (hasTool('vipsthumbnail')) {
      log('index: vipsthumbnail -s 64');
      try {
        const out = path.join(tmp, 'vips');
        fs.mkdirSync(out);
        const secs = await timed(async () => {
          await Promise.all(
            slices(files, cores).map((s) => run('vipsthumbnail', ['-s', '64', '-o', `${out}/%s.jpg`, ...s])),
          );
        });
        result.vipsthumbnail = { wallSeconds: Number(secs.toFixed(2)), processes: Math.min(cores, n) };
        result.doppelToVipsthumbnail = Number((doppelSeconds / secs).toFixed(3));
      } catch (err) {
        result.vipsthumbnail = { error: (err as Error).message };
      }
    } else result.vipsthumbnail = { missing: 'vipsthumbnail is not installed (Debian: apt-get install libvips-tools)' };

    if (hasTool('findimagedupes')) {
      log('index: findimagedupes');
      try {
        const secs = await timed(async () => {
          const parts = slices(files, cores);
          const dbs = parts.map((_, i) => path.join(tmp, `fid-${i}.db`));
          await Promise.all(parts.map((s, i) => run('findimagedupes', ['-q', '-n', '-f', dbs[i]!, '--', ...s])));
          // Merge the slices' fingerprints and compare them all (multiple databases need --merge).
          await run('findimagedupes', ['-q', '-M', path.join(tmp, 'fid.db'), ...dbs.flatMap((d) => ['-f', d])]);
        });
        result.findimagedupes = { wallSeconds: Number(secs.toFixed(2)), processes: Math.min(cores, n) };
        result.findimagedupesToDoppel = Number((secs / doppelSeconds).toFixed(3));
      } catch (err) {
        result.findimagedupes = { error: (err as Error).message };
      }
    } else
      result.findimagedupes = { missing: 'findimagedupes is not installed (Debian: apt-get install findimagedupes)' };

    result.targets = {
      doppelToVipsthumbnailAtMost: 1.25,
      findimagedupesToDoppelAtLeast: 5,
      met:
        typeof result.doppelToVipsthumbnail === 'number' && typeof result.findimagedupesToDoppel === 'number'
          ? result.doppelToVipsthumbnail <= 1.25 && result.findimagedupesToDoppel >= 5
          : null,
    };
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function indexBench(opts: { photos?: number } = {}): Promise<Record<string, unknown>> {
  const library = await libraryBench();
  log(`index: ${String(library.photos)} photos at ${String(library.photosPerSecond)}/s`);
  const n = opts.photos ?? Number(process.env.DOPPEL_BENCH_PHOTOS ?? 160);
  const twelveMegapixel = await twelveMegapixelBench(n);
  log(`index: 12 MP ${JSON.stringify(twelveMegapixel)}`);
  return { library, twelveMegapixel };
}
