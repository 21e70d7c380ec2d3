// Resume after a crash: `doppel index` (the built CLI, indexing in its worker thread) is SIGKILLed at random
// moments on a folder of real photos, then allowed to finish. Every photo must be in the library exactly once,
// with the vector an uninterrupted run gives it, in a database that passes PRAGMA integrity_check.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../../src/core/random.js';
import { DATA, PHOTOS, REPO, tempDir } from '../helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-resume-');
const lib = path.join(tmp, 'photos');
const env = { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') };

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `doppel index` to the end; returns its summary. */
function indexToEnd(db: string): { added: number; durationMs: number } {
  const r = spawnSync(process.execPath, [BIN, 'index', lib, '--db', db, '--json'], { encoding: 'utf8', env });
  expect(r.stderr).not.toMatch(/doppel:/);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { added: number; durationMs: number };
}

/**
 * Starts `doppel index` and SIGKILLs it `ms` after its next batch lands in the library (so that the kill falls
 * while it indexes, not while it starts up); resolves whether it was still running when killed.
 */
function indexAndKill(db: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const before = fs.existsSync(db) ? readLibrary(db).rows.length : 0;
    const child = spawn(process.execPath, [BIN, 'index', lib, '--db', db], { env, stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (timer || !fs.existsSync(db)) return;
      let now = before;
      try {
        now = readLibrary(db, false).rows.length;
      } catch {
        return; // not created yet
      }
      if (now > before) timer = setTimeout(() => child.kill('SIGKILL'), ms);
    }, 25);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' && code === null);
    });
  });
}

function readLibrary(db: string, check = true) {
  const conn = new BetterSqlite3(db, { readonly: true, timeout: 5000 });
  try {
    const integrity = check ? conn.pragma('integrity_check', { simple: true }) : null;
    const rows = conn
      .prepare(
        `SELECT p.path, p.status, p.hash, v.vector FROM photos p LEFT JOIN vectors v ON v.photo_id = p.id ORDER BY p.path`,
      )
      .all() as { path: string; status: string; hash: string | null; vector: Buffer | null }[];
    return { integrity, rows };
  } finally {
    conn.close();
  }
}

/**
 * Every photo of ../shared/data/photos (real photos of several sets) and 300 of imagenette's, flat, under unique
 * names: enough batches that six kills, each after a batch, leave work for the next run.
 */
function makeLibrary(): number {
  fs.mkdirSync(lib, { recursive: true });
  let n = 0;
  const imagenette = path.join(DATA, 'imagenette');
  const extra = (fs.readdirSync(imagenette, { recursive: true }) as string[])
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, 300);
  for (const f of extra) {
    fs.copyFileSync(path.join(imagenette, f), path.join(lib, `imagenette-${path.basename(f)}`));
    n++;
  }
  for (const set of fs.readdirSync(PHOTOS).sort()) {
    for (const f of fs.readdirSync(path.join(PHOTOS, set)).sort()) {
      fs.copyFileSync(path.join(PHOTOS, set, f), path.join(lib, `${set}-${f}`));
      n++;
    }
  }
  return n;
}

describe('indexing resumes after SIGKILL', () => {
  it('keeps every photo exactly once with the vectors of an uninterrupted run', async () => {
    const files = makeLibrary();
    expect(files).toBeGreaterThanOrEqual(450);

    const reference = path.join(tmp, 'reference.sqlite');
    const { added, durationMs } = indexToEnd(reference);
    // How long one batch of 32 takes here, so that kills land within a batch on fast and slow machines alike.
    const batchMs = durationMs / Math.ceil(added / 32);
    const ref = readLibrary(reference);
    expect(ref.rows).toHaveLength(files);

    // Kill moments: a random time within one batch's duration after a run's next batch is committed, so each
    // kill can land in any phase of the pipeline (reading, decoding, encoding, writing a batch, thumbnails).
    const random = rng(20261128);
    const crashed = path.join(tmp, 'crashed.sqlite');
    const moments: number[] = [];
    let killedWhileRunning = 0;
    for (let i = 0; i < 20 && killedWhileRunning < 6; i++) {
      const ms = Math.round(random() * batchMs);
      moments.push(ms);
      if (await indexAndKill(crashed, ms)) killedWhileRunning++;
    }
    expect(killedWhileRunning, `kill moments ${moments.join(', ')} ms`).toBeGreaterThanOrEqual(5);
    // Some batches survived the crashes (the next run goes on from there), not everything.
    const partial = readLibrary(crashed);
    expect(partial.integrity).toBe('ok');
    expect(partial.rows.length).toBeGreaterThan(0);
    expect(partial.rows.length).toBeLessThan(files);

    indexToEnd(crashed);
    const after = readLibrary(crashed);
    expect(after.integrity).toBe('ok');
    const paths = after.rows.map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toEqual(ref.rows.map((r) => r.path));
    after.rows.forEach((row, i) => {
      const want = ref.rows[i]!;
      expect(row.status, row.path).toBe(want.status);
      expect(row.hash, row.path).toBe(want.hash);
      expect(row.vector, row.path).not.toBeNull();
      expect(Buffer.compare(row.vector!, want.vector!), `vector of ${row.path}`).toBe(0);
    });
    // No half-written thumbnail is left behind: the last run removed what the killed ones were writing.
    const thumbs = path.join(path.dirname(crashed), 'thumbnails');
    const leftovers = fs.readdirSync(thumbs, { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  }, 600_000);
});
