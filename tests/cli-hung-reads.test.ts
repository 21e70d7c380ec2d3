// A drive whose reads never answer (a network share whose server went away), for real: tests/fixtures/hangfs.c is a
// FUSE file system that lists and stats its files and then never answers a read. Through the built CLI:
// `doppel index` reports those files and indexes the rest, `doppel serve` keeps serving while a run waits on them,
// cancel ends that run, and SIGTERM ends the process. Needs /dev/fuse, a C compiler and libfuse3 (Debian's fuse3 and
// libfuse3-dev, which .ci/run installs); where one is missing the tests are skipped and say why.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexStatus, IndexSummary, PhotoPage } from '../src/shared/api.js';
import { fromWire, toWire } from '../src/shared/wire.js';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-hung-');
const hangfs = path.join(tmp, 'hangfs');
/** Each read's time limit in the `doppel index` test: the files of the hung drive are reported after it. */
const LIMIT_MS = 2000;
const STUCK_FILES = 6;

/** Why FUSE cannot be used here, or null when a hung file system was mounted and unmounted. */
let unavailable: string | null = null;

/** Every process the tests start, ended in afterAll whatever happened (a test that timed out runs no `finally`). */
const started: ChildProcess[] = [];

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface Mounted {
  /** Sends SIGUSR1: photo.jpg (of --backed) stops answering too. */
  hang(): void;
  /** How many reads the file system has left waiting. */
  waiting(): number;
  /** Kills the file system: the kernel then fails the reads still waiting on it. */
  stop(): Promise<void>;
}

/** Polls `check` until it holds: false when `ms` pass first. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await delay(25);
  }
  return true;
}

const mounted = (dir: string) => fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir} fuse.hangfs `);

async function mountHung(
  dir: string,
  opts: { files?: number; hungDir?: boolean; backed?: string } = {},
): Promise<Mounted> {
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    dir,
    String(opts.files ?? STUCK_FILES),
    ...(opts.hungDir ? ['--hung-dir'] : []),
    ...(opts.backed ? ['--backed', opts.backed] : []),
    '-f',
  ];
  const daemon = spawn(hangfs, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.unshift(daemon); // ended first: it is what holds the others
  let err = '';
  let reads = 0;
  daemon.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  createInterface({ input: daemon.stdout! }).on('line', (line) => {
    if (line.startsWith('read ') || line.startsWith('readdir ')) reads++;
  });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  if (!(await until(() => mounted(dir) || daemon.exitCode !== null, 10_000)) || !mounted(dir)) {
    daemon.kill('SIGKILL');
    throw new Error(`hangfs did not mount ${dir}: ${err.trim()}`);
  }
  return {
    waiting: () => reads,
    hang: () => daemon.kill('SIGUSR1'),
    stop: async () => {
      daemon.kill('SIGKILL');
      await exited;
      spawnSync('fusermount3', ['-u', '-z', dir]);
    },
  };
}

beforeAll(async () => {
  if (process.platform !== 'linux' || !fs.existsSync('/dev/fuse')) unavailable = 'no /dev/fuse';
  else if (!has('cc') || !has('pkg-config') || !has('fusermount3')) unavailable = 'no cc, pkg-config or fusermount3';
  else {
    const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
    if (flags.status !== 0) unavailable = 'no libfuse3 (Debian: fuse3 libfuse3-dev)';
    else {
      const src = path.join(REPO, 'tests', 'fixtures', 'hangfs.c');
      const cc = spawnSync('cc', ['-O1', src, ...flags.stdout.trim().split(/\s+/), '-o', hangfs], { encoding: 'utf8' });
      if (cc.status !== 0) unavailable = `hangfs does not build: ${cc.stderr}`;
      else {
        try {
          await (await mountHung(path.join(tmp, 'probe'))).stop();
        } catch (err) {
          unavailable = (err as Error).message; // a container without the right to mount
        }
      }
    }
  }
  if (unavailable) console.warn(`skipping the hung-drive tests: ${unavailable}`);
}, 60_000);

afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const mnt = line.split(' ')[1];
    if (mnt?.startsWith(tmp) && line.includes(' fuse.hangfs ')) spawnSync('fusermount3', ['-u', '-z', mnt]);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function doppel(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, cwd: REPO });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The URL `doppel serve` prints, and a caller of its API members. */
async function bridgeOf(
  serve: Run,
): Promise<{ base: string; call: <T>(member: string, ...args: unknown[]) => Promise<T> }> {
  const base = await new Promise<string>((resolve, reject) => {
    createInterface({ input: serve.child.stdout! }).once('line', resolve);
    void serve.exited.then(() => reject(new Error(`serve ended: ${serve.stderr()}`)));
  });
  const call = async <T>(member: string, ...args: unknown[]): Promise<T> => {
    const res = await fetch(`${base}api/${member}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(toWire(args)),
    });
    const body = fromWire(JSON.parse(await res.text())) as
      { ok: true; value: T } | { ok: false; error: { kind: string; message: string } };
    if (!body.ok) throw new Error(`${member}: ${body.error.kind}: ${body.error.message}`);
    return body.value;
  };
  return { base, call };
}

/** `doppel …` run to its end with `env` added (a command that answers). */
function doppelSync(args: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

const ENDING = /(\d+) read\(s\) of a drive that stopped answering are still waiting; ending the process/;

describe('a drive whose reads never answer', () => {
  it('`doppel index` reports its files, indexes the rest, closes the library and ends', async (ctx) => {
    if (unavailable) return ctx.skip();
    const dir = path.join(tmp, 'index');
    const lib = path.join(dir, 'photos');
    copyInto(photos('CSet14', 5), lib);
    const share = await mountHung(path.join(lib, 'share'));
    const env = { DOPPEL_HOME: path.join(dir, 'home'), DOPPEL_READ_TIMEOUT_MS: String(LIMIT_MS) };
    try {
      const run = doppel(['index', lib], env);
      // The command reaches its end with every line written (the library closed), though reads still wait.
      expect(await until(() => ENDING.test(run.stderr()), 60_000), run.stderr()).toBe(true);
      const out = run.stdout();
      expect(out).toMatch(/^11 files scanned: 11 added, .* 6 could not be indexed .* Library: 5 photos\./m);
      const stuck = [...out.matchAll(/^ {2}! (.+\/share\/stuck-\d\.jpg): (.+)$/gm)];
      expect(stuck.map((m) => path.basename(m[1]!)).sort()).toEqual(
        Array.from({ length: STUCK_FILES }, (_, i) => `stuck-${i + 1}.jpg`),
      );
      const reasons = stuck.map((m) => m[2]!);
      for (const reason of reasons) {
        expect(reason).toMatch(/^(Did not (answer|open) within 2 s|Not read: its drive stopped answering .*)$/);
      }
      // Once one read gave up, the drive's other files were not asked: only those already in flight waited.
      const waited = reasons.filter((r) => r.startsWith('Did not')).length;
      expect(waited).toBeLessThan(STUCK_FILES);
      expect(Number(ENDING.exec(run.stderr())![1])).toBe(waited);

      // Meanwhile another process reads the library the first one closed: the reasons are stored.
      const info = doppelSync(['info', '--errors', '--json'], env);
      expect(info.status, info.stderr).toBe(0);
      const stored = JSON.parse(info.stdout) as { photos: number; errorFiles: { path: string; reason: string }[] };
      expect(stored.photos).toBe(5);
      expect(stored.errorFiles.map((e) => e.reason).sort()).toEqual([...reasons].sort());

      // Files given up on are not taken for unchanged: the next run reads them again (and gives up again).
      const again = doppel(['index', lib], env);
      expect(await until(() => ENDING.test(again.stderr()), 60_000), again.stderr()).toBe(true);
      expect(again.stdout()).toMatch(/^11 files scanned: 0 added, 6 updated, 5 unchanged, .* 6 could not be indexed/m);

      // The kernel holds the processes until the file system answers; killing it fails those reads.
      await share.stop();
      expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await again.exited).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      await share.stop();
    }
  }, 120_000);

  it('`doppel serve` keeps serving while a run waits on it; cancel ends the run; SIGTERM ends the process', async (ctx) => {
    if (unavailable) return ctx.skip();
    const dir = path.join(tmp, 'serve');
    const lib = path.join(dir, 'photos');
    const shareDir = path.join(dir, 'share');
    copyInto(photos('CSet14', 3), lib);
    // A time limit longer than the test takes to cancel: a cancelled run ends before any read is given up on.
    const env = { DOPPEL_HOME: path.join(dir, 'home'), DOPPEL_READ_TIMEOUT_MS: '8000' };
    const first = doppelSync(['index', lib], env);
    expect(first.status, first.stderr).toBe(0);
    const share = await mountHung(shareDir);
    const serve = doppel(['serve'], env);
    try {
      const { base, call } = await bridgeOf(serve);
      // Runs only when asked: the watcher would start one of its own for the new folder.
      await call('updateSettings', { watch: false });
      await call('addFolder', shareDir);
      const indexAll = () =>
        call<IndexSummary>('indexAll').then(
          (summary) => summary,
          (err: Error) => err.message,
        );
      const run = indexAll();
      // The run is waiting on the drive: every file it has in flight (two per core) is a read that never answers,
      // as many as libuv's whole pool had by default.
      const inFlight = Math.min(STUCK_FILES, 2 * os.availableParallelism());
      expect(await until(() => share.waiting() >= inFlight, 30_000), `${share.waiting()} reads`).toBe(true);
      expect((await call<IndexStatus>('indexStatus')).state).toBe('running');

      // Media of the photos already indexed are served the whole time, from other threads of libuv's pool.
      const page = await call<PhotoPage>('listPhotos', { limit: 10 });
      expect(page.photos.length).toBe(3);
      for (const photo of page.photos) {
        for (const kind of ['thumb', 'original']) {
          const res = await fetch(`${base}media/${kind}/${photo.id}`, { signal: AbortSignal.timeout(10_000) });
          expect(res.status, `${kind} ${photo.path}`).toBe(200);
          expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
        }
      }

      // Cancel ends the run at once, though its reads never answer (not after they are given up on: it would
      // then finish with them as errors).
      await call<IndexStatus>('cancelIndexing');
      expect(await run).toMatch(/^indexAll: cancelled: /);
      expect((await call<IndexStatus>('indexStatus')).state).toBe('idle');
      // A second run ends too: the drive's files are reported (given up on, or not asked again).
      const again = await indexAll();
      expect(again).toMatchObject({ scanned: 3 + STUCK_FILES, unchanged: 3 });
      const errors = (again as IndexSummary).errors;
      expect(errors.map((e) => path.basename(e.path)).sort()).toEqual(
        Array.from({ length: STUCK_FILES }, (_, i) => `stuck-${i + 1}.jpg`),
      );
      for (const e of errors) expect(e.reason).toMatch(/^(Did not (answer|open) within 8 s|Not read: its drive .*)$/);

      // SIGTERM: the server closes the library and ends itself (the reads it gave up on still wait).
      serve.child.kill('SIGTERM');
      expect(await until(() => ENDING.test(serve.stderr()), 30_000), serve.stderr()).toBe(true);
      await share.stop();
      expect((await serve.exited).signal).toBe('SIGKILL');
    } finally {
      serve.child.kill('SIGKILL');
      await share.stop();
    }
  }, 120_000);

  it('`doppel index` reports a folder whose listing never answers and keeps the photos it knew there', async (ctx) => {
    if (unavailable) return ctx.skip();
    const dir = path.join(tmp, 'listing');
    const lib = path.join(dir, 'photos');
    const shareDir = path.join(lib, 'share');
    copyInto(photos('CSet14', 3), lib);
    // Indexed while the share answered: one photo in its folder hung-dir.
    const [kept] = copyInto(photos('CSet14', 4).slice(3), path.join(shareDir, 'hung-dir'));
    const env = { DOPPEL_HOME: path.join(dir, 'home'), DOPPEL_READ_TIMEOUT_MS: String(LIMIT_MS) };
    const first = doppelSync(['index', lib], env);
    expect(first.stdout, first.stderr).toMatch(/Library: 4 photos\./);
    // Now the share is a drive whose folder hung-dir never lists.
    const share = await mountHung(shareDir, { files: 0, hungDir: true });
    try {
      const run = doppel(['index', lib], env);
      expect(await until(() => ENDING.test(run.stderr()), 60_000), run.stderr()).toBe(true);
      expect(share.waiting()).toBe(1);
      const out = run.stdout();
      // The folder is reported; the photo the library knew there is not taken for deleted.
      expect(out).toMatch(
        /^3 files scanned: 0 added, 0 updated, 3 unchanged, 0 removed, 1 could not be indexed .* Library: 4 photos\./m,
      );
      expect(out).toContain(`! ${path.join(shareDir, 'hung-dir')}: Did not answer within 2 s`);
      const info = doppelSync(['info', '--json'], env);
      expect((JSON.parse(info.stdout) as { photos: number }).photos).toBe(4);
      await share.stop();
      expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(fs.existsSync(kept!)).toBe(true); // the photo itself, under the mount, never touched
    } finally {
      await share.stop();
    }
  }, 120_000);

  it('`doppel serve` answers 503 for an original whose drive stopped answering, then at once', async (ctx) => {
    if (unavailable) return ctx.skip();
    const dir = path.join(tmp, 'original');
    const lib = path.join(dir, 'photos');
    const [local] = copyInto(photos('CSet14', 2), lib);
    const [real] = photos('CSet14', 3).slice(2);
    // A share that answered while it was indexed: photo.jpg has the bytes of a real photo.
    const share = await mountHung(path.join(lib, 'share'), { files: 0, backed: real! });
    const env = { DOPPEL_HOME: path.join(dir, 'home'), DOPPEL_READ_TIMEOUT_MS: String(LIMIT_MS) };
    const first = doppelSync(['index', lib], env);
    expect(first.stdout, first.stderr).toMatch(/Library: 3 photos\./);
    const serve = doppel(['serve'], env);
    try {
      const { base, call } = await bridgeOf(serve);
      const page = await call<PhotoPage>('listPhotos', { limit: 10 });
      const onShare = page.photos.find((p) => p.path.endsWith('/share/photo.jpg'))!;
      const onDisk = page.photos.find((p) => p.path === local)!;
      const original = (id: number) => fetch(`${base}media/original/${id}`, { signal: AbortSignal.timeout(20_000) });
      const served = await original(onShare.id);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer()).equals(fs.readFileSync(real!))).toBe(true);

      share.hang();
      // The first read gives up after the limit: a 503 with the reason, not a 200 cut short.
      const hung = await original(onShare.id);
      expect(hung.status).toBe(503);
      expect(await hung.text()).toMatch(/^not answering: Did not answer within 2 s$/);
      expect(share.waiting()).toBe(1);
      // The drive is not asked again while that read waits: the next request is refused without a read.
      const again = await original(onShare.id);
      expect(again.status).toBe(503);
      expect(await again.text()).toMatch(/^not answering: Not read: its drive stopped answering/);
      expect(share.waiting()).toBe(1);
      // Photos on other drives are served as ever.
      const fine = await original(onDisk.id);
      expect(fine.status).toBe(200);
      expect(Buffer.from(await fine.arrayBuffer()).equals(fs.readFileSync(local!))).toBe(true);

      serve.child.kill('SIGTERM');
      expect(await until(() => ENDING.test(serve.stderr()), 30_000), serve.stderr()).toBe(true);
      await share.stop();
      expect((await serve.exited).signal).toBe('SIGKILL');
    } finally {
      await share.stop();
    }
  }, 120_000);
});
