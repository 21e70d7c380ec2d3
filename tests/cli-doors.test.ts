// The built CLI as users start it and read it: through a symbolic link of any name, into a pipe that closes
// early, with file names that hold terminal escape sequences, with a query file that is not an image, and with
// a reference folder inside an indexed folder. Real photos, a real SQLite file, the shipped model.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-cli-doors-');
const db = path.join(tmp, 'library.sqlite');
const lib = path.join(tmp, 'library');
// A name that would set the window title and turn the text red if it reached a terminal raw.
const EVIL = 'evil\x1b]0;pwned\x07\x1b[31m.png';
const env = { ...process.env, DOPPEL_HOME: path.join(tmp, 'home'), HOME: path.join(tmp, 'home') };

function doppel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--db', db], { encoding: 'utf8', env, timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A shell pipeline, with the status of its first command (bash's pipefail). */
function pipeline(command: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { encoding: 'utf8', env, timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let original: string;

beforeAll(() => {
  const sources = photos('CBSD68', 4);
  copyInto(sources, lib);
  copyInto(sources, path.join(lib, 'masters'));
  original = path.join(lib, path.basename(sources[0]!));
  fs.copyFileSync(sources[1]!, path.join(lib, EVIL));
  fs.writeFileSync(path.join(lib, `bad${'\x1b[2J'}.jpg`), 'not a jpeg');
  const r = doppel('index', lib);
  expect(r.status).toBe(0);
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel, started and read as users do', () => {
  it('runs through a symbolic link of any name (as npx, npm link and a global install start it)', () => {
    const link = path.join(tmp, 'bin', 'some-name');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(BIN, link);
    const version = spawnSync(link, ['--version'], { encoding: 'utf8', env });
    expect({ status: version.status, stdout: version.stdout }).toEqual({ status: 0, stdout: '0.1.0\n' });
    const help = spawnSync(link, ['--help'], { encoding: 'utf8', env });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: doppel \[options\] \[command\]/);
  });

  it('ends quietly with status 0 when the reader of its output goes away', () => {
    for (const args of ['dupes', `similar "${original}" -k 9`, 'config list']) {
      const [name, ...rest] = args.split(' ');
      const full = `"${process.execPath}" "${BIN}" ${name} ${rest.join(' ')} --db "${db}"`;
      // `head -1` as in the README's use; `true` reads nothing, so the pipe is closed before the first write.
      for (const reader of ['head -1', 'true']) {
        const r = pipeline(`${full} | ${reader}`);
        // No error: at most the note a second `dupes` prints when it shows the groups its first scan kept.
        const stderr = r.stderr.replace(/^doppel: nothing changed since the last scan: its groups .*\n/m, '');
        expect({ args, reader, status: r.status, stderr }).toEqual({ args, reader, status: 0, stderr: '' });
      }
    }
  });

  it('prints file names with their control characters escaped', () => {
    const escaped = 'evil\\x1b]0;pwned\\x07\\x1b[31m.png';
    const outputs = [
      doppel('dupes').stdout,
      doppel('dupes', '--trash', '--dry-run').stdout,
      doppel('similar', path.join(lib, EVIL), '-k', '3').stdout,
      doppel('info', '--errors').stdout,
    ];
    const controls = (text: string): string[] =>
      [...text].filter((c) => (c < ' ' && c !== '\n') || c === '\x7f').map((c) => c.charCodeAt(0).toString(16));
    for (const out of outputs) expect(controls(out)).toEqual([]);
    expect(outputs[0]).toContain(escaped);
    expect(outputs[1]).toContain(`would move to the trash: ${path.join(lib, escaped)}`);
    expect(outputs[2]).toContain(path.join(lib, escaped));
    expect(outputs[3]).toContain(`${path.join(lib, 'bad\\x1b[2J.jpg')}: `);
  });

  it('names the file that is not an image and still answers the other query', () => {
    const readme = path.join(REPO, 'README.md');
    const r = doppel('similar', original, readme, '-k', '2');
    expect(r.status).toBe(1);
    const [query, ...results] = r.stdout.trimEnd().split('\n');
    expect(query).toBe(original);
    // The query, a library photo, is shown apart: its two results are other photos.
    expect(results).toHaveLength(2);
    for (const line of results) expect(line).toMatch(/^ +\d+\.\d\d% {2}\//);
    expect(results.some((line) => line.endsWith(`  ${original}`))).toBe(false);
    expect(r.stderr).toBe(
      `doppel: ${readme}: Not a supported image (Input buffer contains unsupported image format)\n` +
        'doppel: 1 of 2 image(s) could not be read\n',
    );
  });

  it('makes a folder inside an indexed folder a reference folder, and never proposes its photos for the trash', () => {
    const masters = path.join(lib, 'masters');
    const photosBefore = JSON.parse(doppel('info', '--json').stdout) as { photos: number };
    const r = doppel('reference', masters);
    expect(r).toEqual({ status: 0, stdout: `${fs.realpathSync(masters)}: reference folder\n`, stderr: '' });
    const again = doppel('index', masters);
    expect(again.stdout).toMatch(/^4 files scanned: 0 added, 0 updated, 4 unchanged, 0 removed/);
    expect(JSON.parse(doppel('info', '--json').stdout)).toMatchObject({ photos: photosBefore.photos });
    const dry = doppel('dupes', '--tier', 'exact', '--trash', '--dry-run');
    const proposed = dry.stdout.split('\n').filter((l) => l.startsWith('would move'));
    expect(proposed).toHaveLength(5); // the 4 copies beside masters/ and the copy with the odd name
    expect(proposed.filter((l) => l.includes(`${path.sep}masters${path.sep}`))).toEqual([]);
    const outside = doppel('reference', tmp);
    expect(outside.status).toBe(1);
    expect(outside.stderr).toMatch(/is not inside a folder of the library/);
  });
});
