// `doppel index --follow-symlinks` through the built CLI, as a user runs it: the setting is saved on the folder, so
// the next `doppel index` without it keeps the photo reached through a link, until `--no-follow-symlinks`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-cli-links-');
const db = path.join(tmp, 'library.sqlite');
const lib = path.join(tmp, 'lib');

function index(...args: string[]): { removed: number; photos: number } {
  const r = spawnSync(process.execPath, [BIN, 'index', lib, ...args, '--db', db, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DOPPEL_HOME: path.join(tmp, 'home') },
    timeout: 300_000,
  });
  expect(r.stderr).not.toMatch(/^doppel:/m);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { removed: number; photos: number };
}

beforeAll(() => {
  expect(fs.existsSync(path.join(REPO, 'out', 'cli', 'doppel.js'))).toBe(true);
  copyInto(photos('CSet14', 1), lib);
  const [target] = copyInto(photos('CSet14', 2).slice(1), path.join(tmp, 'elsewhere'));
  fs.symlinkSync(target!, path.join(lib, 'linked.png'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel index --follow-symlinks', () => {
  it('is saved on the folder: later runs keep the linked photo until --no-follow-symlinks', () => {
    expect(index('--follow-symlinks')).toMatchObject({ photos: 2 });
    expect(index()).toMatchObject({ removed: 0, photos: 2 });
    expect(index('--no-follow-symlinks')).toMatchObject({ removed: 1, photos: 1 });
    expect(index()).toMatchObject({ removed: 0, photos: 1 });
  });
});
