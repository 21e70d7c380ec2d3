// The `index` section of `npm run bench`: indexing speed.
// - library: the real photos of ../shared/data/photos indexed through DoppelService (photos/s, unchanged re-run).
// - twelveMegapixel: N of those photos re-encoded as 12-megapixel JPEGs (4000 x 3000, quality 90; cached in the
//   temp folder, not in git), indexed by `doppel index` (the built CLI, a fresh library, process start-up
//   included) and, in the same run on the same files with the same number of cores, by `vipsthumbnail -s 64`
//   (libvips' own thumbnailer: the decode floor) and `findimagedupes` (fingerprints in parallel slices, then
//   one compare), each as wall time: the tools take turns for DOPPEL_BENCH_ROUNDS rounds (default 3) and each
//   is reported by its median, with the CPU seconds its processes used (bash's `times`: steadier than wall time
//   on a shared machine). Tools that are not installed are reported as missing.
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

/**
 * Runs a command to completion; resolves with the CPU seconds (user + system) that it and its children used,
 * as bash's `times` reports them: steadier than wall time on a shared machine.
 */
function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$@"; status=$?; times >&2; exit $status', 'bash', cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: env ?? process.env,
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`));
      // The last line of `times`: the children's user and system time, e.g. "0m5.040s 0m0.450s".
      const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(err);
      resolve(m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN);
    });
  });
}

/** Wall seconds of fn, and the CPU seconds it reports. */
async function timed(fn: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const t0 = process.hrtime.bigint();
  const cpu = await fn();
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu };
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
  const rounds = Math.max(1, Number(process.env.DOPPEL_BENCH_ROUNDS ?? 3));
  const result: Record<string, unknown> = { photos: files.length, megapixels: 12, cores, rounds };
  try {
    // Warm the page cache so that every tool reads the files from memory.
    for (const f of files) fs.readFileSync(f);

    // The tools take turns, round after round, and each is judged by its median: on a shared machine a single
    // run of each can be off by 15% either way. Each tool reports the CPU seconds its processes used.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Doppel as installed (with the library setting "find cropped copies", on by default: four corner views a
    // photo, predicted by the model), and with that setting off, made before the timed run (prepare).
    const cli = path.join(ROOT, 'bin/doppel.js');
    const homes = { doppel: path.join(tmp, 'doppel'), doppelWithoutCroppedCopies: path.join(tmp, 'doppel-no-crops') };
    const envOf = (home: string) => ({ ...process.env, DOPPEL_HOME: home });
    const dbOf = (home: string) => ['--db', path.join(home, 'lib.sqlite')];
    const doppel =
      (home: string): (() => Promise<number>) =>
      async () => {
        fs.mkdirSync(home, { recursive: true });
        const cpu = await run(process.execPath, [cli, 'index', dir, ...dbOf(home)], envOf(home));
        fs.rmSync(home, { recursive: true, force: true });
        return cpu;
      };
    const prepare: Record<string, () => Promise<unknown>> = {};
    const tools: Record<string, () => Promise<number>> = { doppel: doppel(homes.doppel) };
    if (process.env.DOPPEL_BENCH_CROPS !== '0') {
      const home = homes.doppelWithoutCroppedCopies;
      prepare.doppelWithoutCroppedCopies = async () => {
        fs.mkdirSync(home, { recursive: true });
        await run(process.execPath, [cli, 'config', 'set', 'find-cropped-copies', 'off', ...dbOf(home)], envOf(home));
      };
      tools.doppelWithoutCroppedCopies = doppel(home);
    }
    if (hasTool('vipsthumbnail')) {
      tools.vipsthumbnail = async () => {
        const out = fs.mkdtempSync(path.join(tmp, 'vips-'));
        const cpu = await Promise.all(
          slices(files, cores).map((s) => run('vipsthumbnail', ['-s', '64', '-o', `${out}/%s.jpg`, ...s])),
        );
        fs.rmSync(out, { recursive: true, force: true });
        return sum(cpu);
      };
    } else result.vipsthumbnail = { missing: 'vipsthumbnail is not installed (Debian: apt-get install libvips-tools)' };
    if (hasTool('findimagedupes')) {
      tools.findimagedupes = async () => {
        const work = fs.mkdtempSync(path.join(tmp, 'fid-'));
        const parts = slices(files, cores);
        const dbs = parts.map((_, i) => path.join(work, `fid-${i}.db`));
        const cpu = await Promise.all(
          parts.map((s, i) => run('findimagedupes', ['-q', '-n', '-f', dbs[i]!, '--', ...s])),
        );
        // Merge the slices' fingerprints and compare them all (multiple databases need --merge).
        cpu.push(
          await run('findimagedupes', ['-q', '-M', path.join(work, 'fid.db'), ...dbs.flatMap((d) => ['-f', d])]),
        );
        fs.rmSync(work, { recursive: true, force: true });
        return sum(cpu);
      };
    } else
      result.findimagedupes = { missing: 'findimagedupes is not installed (Debian: apt-get install findimagedupes)' };

    const walls: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
    const cpus: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
    const failed = new Set<string>();
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of Object.entries(tools)) {
        if (failed.has(name)) continue;
        log(`index: round ${r + 1}/${rounds}: ${name}`);
        try {
          await prepare[name]?.();
          const { wall, cpu } = await timed(fn);
          walls[name]!.push(wall);
          cpus[name]!.push(cpu);
        } catch (err) {
          failed.add(name);
          result[name] = { error: (err as Error).message };
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const seconds: Record<string, number> = {};
    const cpuSeconds: Record<string, number> = {};
    for (const [name, xs] of Object.entries(walls)) {
      if (failed.has(name) || xs.length === 0) continue;
      seconds[name] = median(xs);
      cpuSeconds[name] = median(cpus[name]!);
      result[name] = {
        wallSeconds: Number(seconds[name].toFixed(2)),
        roundsSeconds: xs.map((x) => Number(x.toFixed(2))),
        cpuSeconds: Number(cpuSeconds[name].toFixed(2)),
        roundsCpuSeconds: cpus[name]!.map((x) => Number(x.toFixed(2))),
        ...(name.startsWith('doppel')
          ? { photosPerSecond: Number((n / seconds[name]).toFixed(2)) }
          : { processes: Math.min(cores, n) }),
      };
    }
    if (seconds.doppel === undefined) throw new Error('doppel index failed: ' + JSON.stringify(result.doppel));
    if (seconds.vipsthumbnail !== undefined) {
      result.doppelToVipsthumbnail = Number((seconds.doppel / seconds.vipsthumbnail).toFixed(3));
      result.doppelToVipsthumbnailCpu = Number((cpuSeconds.doppel! / cpuSeconds.vipsthumbnail!).toFixed(3));
    }
    if (seconds.findimagedupes !== undefined)
      result.findimagedupesToDoppel = Number((seconds.findimagedupes / seconds.doppel).toFixed(3));
    if (seconds.doppelWithoutCroppedCopies !== undefined) {
      result.doppelToWithoutCroppedCopies = Number((seconds.doppel / seconds.doppelWithoutCroppedCopies).toFixed(3));
      result.doppelToWithoutCroppedCopiesCpu = Number(
        (cpuSeconds.doppel! / cpuSeconds.doppelWithoutCroppedCopies!).toFixed(3),
      );
    }

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
