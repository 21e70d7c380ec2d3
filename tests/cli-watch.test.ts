// `doppel watch`: the library follows files added, modified, deleted and moved in a watched folder, each within
// 5 s, until the process is stopped with SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const tmp = tempDir('doppel-watch-');
const lib = path.join(tmp, 'photos');
const db = path.join(tmp, 'library.sqlite');
const SOURCES = photos('CSet14', 8);
let child: ChildProcess;
let stdout = '';

function library(): Map<string, { hash: string | null; vector: Buffer | null }> {
  const conn = new BetterSqlite3(db, { readonly: true, timeout: 5000 });
  try {
    const rows = conn
      .prepare(
        `SELECT p.path, p.hash, v.vector FROM photos p LEFT JOIN vectors v ON v.photo_id = p.id WHERE p.status = 'indexed'`,
      )
      .all() as { path: string; hash: string | null; vector: Buffer | null }[];
    return new Map(rows.map((r) => [r.path, { hash: r.hash, vector: r.vector }]));
  } finally {
    conn.close();
  }
}

/** Waits until `check` holds for the library, at most 5 s after the change; returns how long it took. */
async function within5s(check: (lib: ReturnType<typeof library>) => boolean): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (check(library())) return Date.now() - start;
    if (Date.now() - start > 5000) throw new Error(`library did not follow the change within 5 s:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  copyInto(SOURCES.slice(0, 5), lib);
  child = spawn(process.execPath, [path.join(REPO, 'bin', 'doppel.js'), 'watch', lib, '--db', db, '--json'], {
    env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  // The rescan on start indexes what is there before watching is reported.
  const deadline = Date.now() + 120_000;
  while (!stdout.includes('"event":"watching"')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`doppel watch did not start:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 150_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('doppel watch', () => {
  it('indexes the folder on start', () => {
    expect(JSON.parse(stdout.split('\n').find((l) => l.includes('"watching"'))!)).toMatchObject({ photos: 5 });
    expect(library().size).toBe(5);
  });

  it('picks up an added file', async () => {
    const [added] = copyInto([SOURCES[5]!], lib);
    await within5s((l) => l.get(added!)?.vector != null);
  });

  it('picks up a modified file', async () => {
    const target = path.join(lib, path.basename(SOURCES[0]!));
    const before = library().get(target)!;
    fs.writeFileSync(target, fs.readFileSync(SOURCES[6]!));
    await within5s((l) => {
      const now = l.get(target);
      return now !== undefined && now.hash !== before.hash && now.vector !== null && !now.vector.equals(before.vector!);
    });
  });

  it('drops a deleted file', async () => {
    const target = path.join(lib, path.basename(SOURCES[1]!));
    expect(library().has(target)).toBe(true);
    fs.rmSync(target);
    await within5s((l) => !l.has(target));
  });

  it('follows a moved file, keeping its vector', async () => {
    const from = path.join(lib, path.basename(SOURCES[2]!));
    const before = library().get(from)!;
    fs.mkdirSync(path.join(lib, 'album'));
    const to = path.join(lib, 'album', 'renamed.png');
    fs.renameSync(from, to);
    await within5s((l) => !l.has(from) && l.get(to)?.vector != null);
    const after = library().get(to)!;
    expect(after.hash).toBe(before.hash);
    expect(after.vector!.equals(before.vector!)).toBe(true);
    expect(library().size).toBe(5);
  });

  it('stops cleanly on SIGINT', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('"event":"stopped"');
  });
});
