// The README, run as written: every shell command of its code blocks, in a fresh clone of the committed HEAD,
// through `npx doppel` in the clone and through `doppel` from an `npm install -g --prefix <tmp>` of it, with
// HOME, DOPPEL_HOME and the trash in a temporary folder. A command the README gains that fails makes this fail.
//
// Set-up that is not the README's words: `npm ci` is replaced by a link to this checkout's node_modules (a second
// install would take minutes and the network); `npm run build` runs as written. Placeholders map to fixtures:
//   ~/Pictures           HOME/Pictures: photos from ../shared/data/photos, two exact copies, a.jpg and b.jpg
//   ~/Pictures/Masters   a folder inside it holding copies of two of its photos
//   photo.jpg, r.png     a photo in the working folder (outside the library); the PNG is written there
//   <folder...>          ~/Pictures
// Long commands run bounded: `serve` until its first line (the URL, which then answers), `watch` until it is
// watching (then Ctrl-C), `train`/`fit-views`/`eval` on a few images, `npm test` as `npm test -- --help` (this
// test is part of it), `npm run train:default` as a syntax check of its script (`sh -n`: about 3 hours). `npm
// start` and `npm run dist` are run up to the Electron download: offline each must stop with one line naming what
// it could not get.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const tmp = tempDir('doppel-readme-');
const clone = path.join(tmp, 'clone');
const home = path.join(tmp, 'home');
const prefix = path.join(tmp, 'global');
const elsewhere = path.join(tmp, 'elsewhere');

/** The shell commands of the README's ```sh blocks, comments dropped, `a && b` split. */
function readmeCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean)
    .flatMap((line) => line.split(/\s+&&\s+/));
}

const PLACEHOLDERS: [RegExp, string][] = [
  [/<folder\.\.\.>/g, '~/Pictures'],
  [/(?<=\s)a\.jpg\b/g, '~/Pictures/a.jpg'],
  [/(?<=\s)b\.jpg\b/g, '~/Pictures/b.jpg'],
];
const TINY: Record<string, string> = {
  train: '--epochs 1 --samples-per-epoch 8 --batch 4',
  'fit-views': '--images 12 --skip 0',
  eval: '--originals ~/Pictures --distractors ~/Pictures --distractors-limit 4 --model doppel-ae32d --no-hashes',
};

/** What each doppel command prints (stdout, then stderr) when it did its work: an empty output is a failure. */
const PRINTS: Record<string, RegExp> = {
  index: /^\d+ files scanned: \d+ added, .* Library: [1-9]\d* photos\.$/m,
  similar: /^photo\.jpg\n {2}[ \d.]+% {2}\//,
  dupes: /^\d+ group\(s\)$|^[1-9]\d* file\(s\) moved to the trash/m,
  undo: /^[1-9]\d* file\(s\) put back/m,
  'not-dupe': /^Remembered: not duplicates\.$/m,
  reference: /Masters: reference folder$/m,
  config: /^near-threshold +\d+\.\d\d%$/m,
  reconstruct: /^r\.png: input \| reconstruction by /,
  info: /^photos: +[1-9]\d*\nerrors:/,
  train: /^finished 1 epoch\(s\): /m,
  eval: /^\{"originals":\d+/,
  'fit-views': /^fitted on \d+ images/m,
};

interface Result {
  command: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

function env(dataDir: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e)) if (/^(DOPPEL_|XDG_|VITEST|npm_)/i.test(k)) delete e[k];
  const npmrc = path.join(os.homedir(), '.npmrc');
  return {
    ...e,
    HOME: home,
    DOPPEL_HOME: dataDir,
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    PATH: `${path.join(prefix, 'bin')}${path.delimiter}${e.PATH ?? ''}`,
    // npm's own settings of this machine (offline-friendly ones such as update-notifier=false) still apply.
    ...(fs.existsSync(npmrc) ? { NPM_CONFIG_USERCONFIG: npmrc } : {}),
  };
}

function sh(command: string, cwd: string, dataDir: string, timeout = 300_000): Result {
  const r = spawnSync('bash', ['-c', command], { cwd, env: env(dataDir), encoding: 'utf8', timeout });
  return { command, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a long command until a line of its output matches, then sends Ctrl-C; resolves with what it printed. */
function untilLine(command: string, cwd: string, dataDir: string, line: RegExp): Promise<Result & { line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `exec ${command}`], { cwd, env: env(dataDir), detached: true });
    let stdout = '';
    let stderr = '';
    let found = '';
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`${command}: no line like ${line} within 120 s; stdout ${stdout}; stderr ${stderr}`));
    }, 120_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const hit = stdout.split('\n').find((l) => line.test(l));
      if (hit && !found) {
        found = hit;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ command, status, stdout, stderr, line: found });
    });
  });
}

/** The README's command in the form this test runs: placeholders filled in, long commands bounded. */
function bounded(command: string): string {
  let c = command;
  for (const [re, to] of PLACEHOLDERS) c = c.replace(re, to);
  const sub = /^(?:npx )?doppel (\S+)/.exec(c)?.[1];
  if (sub && TINY[sub]) c = `${c} ${TINY[sub]}`;
  if (c === 'npm test') c = 'npm test -- --help';
  if (c.startsWith('npm run test:')) c = `${c} -- --help`;
  if (c === 'npm run train:default') c = 'sh -n scripts/train-default.sh';
  return c;
}

/** Runs one README command; checks what it printed where the README says what it prints. */
async function runReadme(command: string, cwd: string, dataDir: string): Promise<void> {
  const c = bounded(command);
  if (/^(npx )?doppel serve\b/.test(c)) {
    const r = await untilLine(c, cwd, dataDir, /^http:\/\/127\.0\.0\.1:\d+\/[^/]+\/$/);
    expect(r.stdout.split('\n')[0], c).toBe(r.line);
    return;
  }
  if (/^(npx )?doppel watch\b/.test(c)) {
    const r = await untilLine(c, cwd, dataDir, /^watching 1 folder\(s\), \d+ photos; Ctrl-C to stop$/);
    expect(r.stdout, c).toContain('stopped (SIGINT)');
    return;
  }
  if (c === 'npm start' || c === 'npm run dist') {
    const r = sh(c, cwd, dataDir, 600_000);
    if (r.status === null) return; // still running at the time limit: it got past the downloads and started
    if (r.status === 0) return;
    // Offline: one line on stderr that names what could not be downloaded and how to try again.
    expect(r.stderr, c).toMatch(new RegExp(`^${c}: could not download [^\\n]+; [^\\n]* run ${c} again\\n$`));
    return;
  }
  const r = sh(c, cwd, dataDir);
  expect({ command: c, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({
    command: c,
    status: 0,
    stderr: '',
  });
  if (/^npm (test|run test:)/.test(c)) expect(r.stdout).toMatch(/vitest/);
  const sub = /^(?:npx )?doppel (\S+)/.exec(c)?.[1];
  if (sub) expect(`${r.stdout}\n${r.stderr}`, c).toMatch(PRINTS[sub] ?? /\S/);
}

let commands: string[];

beforeAll(() => {
  const clone_ = spawnSync('git', ['clone', '--quiet', REPO, clone], { encoding: 'utf8' });
  expect(clone_.stderr).toBe('');
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules')); // instead of `npm ci`
  const pictures = path.join(home, 'Pictures');
  const library = photos('CBSD68', 6);
  copyInto(library, pictures);
  copyInto(library.slice(0, 2), path.join(pictures, 'copies'));
  copyInto(library.slice(2, 4), path.join(pictures, 'Masters'));
  const [a, b, query] = photos('CSun_Hays80', 3);
  fs.copyFileSync(a!, path.join(pictures, 'a.jpg'));
  fs.copyFileSync(b!, path.join(pictures, 'b.jpg'));
  fs.mkdirSync(elsewhere);
  for (const dir of [clone, elsewhere]) fs.copyFileSync(query!, path.join(dir, 'photo.jpg'));
  commands = readmeCommands(fs.readFileSync(path.join(clone, 'README.md'), 'utf8'));
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('README', () => {
  it('has the commands this test knows how to run', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.slice(0, 3)).toEqual(['npm ci', 'npm run build', 'npm start']);
    expect(commands.filter((c) => /^npx doppel /.test(c)).length).toBeGreaterThan(10);
  });

  it('every command works as written from a fresh clone, through npx', async () => {
    for (const command of commands) {
      if (command === 'npm ci') continue; // the node_modules link made in beforeAll stands for it
      await runReadme(command, clone, path.join(home, 'npx'));
    }
  }, 900_000);

  it('every doppel command works as written through a global install (npm install -g --prefix)', async () => {
    if (!fs.existsSync(path.join(clone, 'out', 'cli', 'doppel.js'))) sh('npm run build', clone, ''); // run alone
    const install = sh(`npm install -g --prefix "${prefix}" "${clone}"`, elsewhere, path.join(home, 'global'));
    expect({ status: install.status, stderr: install.stderr }).toEqual({ status: 0, stderr: '' });
    expect(sh('command -v doppel', elsewhere, '').stdout.trim()).toBe(path.join(prefix, 'bin', 'doppel'));
    for (const command of commands.filter((c) => c.startsWith('npx doppel '))) {
      await runReadme(command.replace(/^npx doppel /, 'doppel '), elsewhere, path.join(home, 'global'));
    }
  }, 900_000);
});
