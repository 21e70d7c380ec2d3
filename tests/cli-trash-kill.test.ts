// Trash and undo that lose nothing when killed, as a user's machine kills them: the built CLI (`node bin/doppel.js`)
// on a real library file, real photos and the freedesktop trash of a temporary HOME. `doppel dupes --trash` and
// `doppel undo` are each SIGKILLed 20 times at random points of their work (when the trash has gained or lost a
// random number of entries, then a random moment later), two run at once, and after a final undo the photos and
// the trash must be exactly as they were: every file back at its path with its bytes, nothing left in the trash.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photos, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-trash-kill-');
const db = path.join(tmp, 'library.sqlite');
const home = path.join(tmp, 'home');
const TRASH = path.join(home, 'data', 'Trash');
const lib = path.join(tmp, 'library');
const COPIES = 64;
const KILLS = 20;
const env = {
  ...process.env,
  DOPPEL_HOME: path.join(tmp, 'doppel-home'),
  HOME: home,
  XDG_DATA_HOME: path.join(home, 'data'),
};

function doppel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--db', db], { encoding: 'utf8', env, timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file under `dir`, by path relative to it, with its sha256. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = sha(file);
  }
  return out;
}

const count = (sub: 'files' | 'info') => {
  try {
    return fs.readdirSync(path.join(TRASH, sub)).length;
  } catch {
    return 0;
  }
};

/** Every photo's bytes are somewhere: in the library or in the trash (a half-done step may hold them twice). */
function expectNothingLost(initial: Record<string, string>): void {
  const present = new Set(Object.values(snapshot(lib)));
  if (fs.existsSync(path.join(TRASH, 'files')))
    for (const h of Object.values(snapshot(path.join(TRASH, 'files')))) present.add(h);
  for (const [file, hash] of Object.entries(initial)) expect(present.has(hash), `${file} is lost`).toBe(true);
}

const random = (n: number) => crypto.randomInt(n);

/**
 * Runs the CLI and SIGKILLs it once the trash's `sub` folder has gained (or lost, `delta` < 0) `delta` entries,
 * a random 0-4 ms later. Resolves with whether it was killed (false: it ended first).
 */
function runAndKill(args: string[], sub: 'files' | 'info', delta: number): Promise<boolean> {
  const start = count(sub);
  const child = spawn(process.execPath, [BIN, ...args, '--db', db], { env, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<boolean>((resolve) => {
    let ended = false;
    void exited.then(() => {
      ended = true;
    });
    const poll = () => {
      if (ended) return resolve(false);
      const moved = count(sub) - start;
      if (delta > 0 ? moved >= delta : moved <= delta) {
        setTimeout(() => {
          const killed = !ended && child.kill('SIGKILL');
          void exited.then(() => resolve(killed));
        }, random(5));
        return;
      }
      setTimeout(poll, 1);
    };
    poll();
  });
}

/** Undoes until nothing is left to undo; returns how many undos ran. */
function undoAll(): number {
  for (let n = 0; n < 200; n++) {
    const r = doppel('undo');
    if (r.stderr.includes('Nothing to undo')) return n;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
  throw new Error('undo never ran out of actions');
}

let initial: Record<string, string>;

beforeAll(() => {
  expect(fs.existsSync(path.join(REPO, 'out', 'cli', 'doppel.js'))).toBe(true);
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(path.join(lib, 'originals'), { recursive: true });
  fs.mkdirSync(path.join(lib, 'copies'), { recursive: true });
  for (const src of photos('CBSD68', COPIES)) {
    fs.copyFileSync(src, path.join(lib, 'originals', path.basename(src)));
    fs.copyFileSync(src, path.join(lib, 'copies', `copy of ${path.basename(src)}`));
  }
  initial = snapshot(lib);
  const r = doppel('index', lib);
  expect(r.status).toBe(0);
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('trash and undo killed at random points', () => {
  it('loses nothing: 20 kills of dupes --trash, 20 of undo, then undo gives back the library as it was', async () => {
    let killed = 0;
    for (let i = 0; i < KILLS; i++) {
      // Kill after the next .trashinfo was written (before or during its move) or after a file arrived.
      if (await runAndKill(['dupes', '--trash'], random(2) ? 'info' : 'files', 1)) killed++;
      expectNothingLost(initial);
    }
    expect(killed).toBe(KILLS);
    // The rest goes to the trash in one run that lives.
    const rest = doppel('dupes', '--trash');
    expect(rest.stderr).toBe('');
    expect(rest.status).toBe(0);
    expect(count('files')).toBe(COPIES);
    expect(count('info')).toBe(COPIES);
    expect(Object.keys(snapshot(lib))).toHaveLength(COPIES);

    // Undo goes newest action first: the big one, then the small ones the killed trashes left. A run that ends
    // before its kill (an action smaller than the kill's point) undid an action whole; the next one goes on.
    killed = 0;
    for (let i = 0; i < 3 * KILLS && killed < KILLS; i++) {
      if (await runAndKill(['undo'], random(2) ? 'info' : 'files', -(1 + random(2)))) killed++;
      expectNothingLost(initial);
    }
    expect(killed).toBe(KILLS);
    expect(undoAll()).toBeGreaterThan(0);
    expect(snapshot(lib)).toEqual(initial);
    expect(count('files')).toBe(0);
    expect(count('info')).toBe(0);
    // The library knows every photo again: the 64 pairs are found as exact duplicates.
    expect(doppel('index', lib).status).toBe(0);
    const groups = doppel('dupes', '--json', '--tier', 'exact').stdout.split('\n').filter(Boolean);
    expect(groups).toHaveLength(COPIES);
  }, 600_000);

  it('two trashes at once, then a trash and an undo at once: each photo moved once, all back after undo', async () => {
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args, '--db', db], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('exit', (status) => resolve({ status, stderr }));
      });
    const both = await Promise.all([run('dupes', '--trash'), run('dupes', '--trash')]);
    // One moves every copy; the other finds them gone (or nothing to move) and says so.
    expect(both.filter((r) => r.status === 0).length).toBeGreaterThanOrEqual(1);
    for (const r of both) if (r.status !== 0) expect(r.stderr).toMatch(/None of these \d+ photos is in the library/);
    expect(count('files')).toBe(COPIES);
    expect(count('info')).toBe(COPIES);
    expect(new Set(Object.values(snapshot(path.join(TRASH, 'files')))).size).toBe(COPIES);

    const mixed = await Promise.all([run('undo'), run('dupes', '--trash')]);
    for (const r of mixed) expect(r.stderr).not.toMatch(/another file has taken its place|does not know where/i);
    expectNothingLost(initial);
    undoAll();
    expect(snapshot(lib)).toEqual(initial);
    expect(count('files')).toBe(0);
    expect(count('info')).toBe(0);
  }, 600_000);
});
