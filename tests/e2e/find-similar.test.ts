/// <reference lib="dom" />
// `doppel find-similar <file...>` (what the file-manager entries run where the desktop app is not installed) in real
// headless Chromium: the built CLI reads the files named, serves the built renderer, and the page opens the Similar
// view on them, as it does for an image dropped on the window (the desktop app's window gets the same request from
// its main process instead). Once the page is closed, the command stops by itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from '../helpers.js';
import { buildRenderer, launchChromium } from './bridge.js';

const CLI = path.join(REPO, 'bin', 'doppel.js');
let dir: string;
let env: NodeJS.ProcessEnv;
let db: string;
let browser: Browser;
let library: string[];
let selected: string[];
let missing: string;

beforeAll(async () => {
  dir = tempDir('doppel-e2e-find-similar-');
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  env = { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, '.local', 'share'), DOPPEL_HOME: home };
  db = path.join(dir, 'db', 'library.sqlite');
  library = copyInto(photos('CSet14', 8), path.join(dir, 'library'));
  const index = spawnSync(process.execPath, [CLI, 'index', path.join(dir, 'library'), '--db', db], {
    env,
    encoding: 'utf8',
  });
  expect(index.status, index.stderr).toBe(0);
  // Outside the library, under names a file manager hands over as they are: copies of two library photos.
  const outside = path.join(dir, 'été 2024');
  fs.mkdirSync(outside);
  selected = [path.join(outside, 'IMG 1.jpg'), path.join(outside, `it's "2" $HOME.png`)];
  fs.copyFileSync(library[2]!, selected[0]!);
  fs.copyFileSync(library[5]!, selected[1]!);
  missing = path.join(outside, 'gone.jpg');
  await buildRenderer();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** `doppel find-similar --no-open` with `files`: the process, the URL it printed first, and its stderr. */
async function findSimilar(files: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'find-similar', '--no-open', '--idle', '1', '--db', db, ...files], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`doppel find-similar exited (${code}): ${err}`)));
  });
  return { child, url, stderr: () => err };
}

const stem = (file: string): string => path.basename(file, path.extname(file));

describe('doppel find-similar in Chromium', () => {
  it('opens the Similar view on the files named, lets the others be picked, says which could not be read', async () => {
    const run = await findSimilar([...selected, missing]);
    expect(run.stderr()).toContain(`doppel: ${missing}: No such file`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(run.url);

    await page.getByRole('heading', { name: 'Photos similar to IMG 1.jpg' }).waitFor();
    await page.getByText('IMG 1.jpg (opened file)').waitFor();
    const results = page.getByRole('region', { name: 'Similar photos' });
    await results.getByRole('listitem').first().waitFor();
    // The bytes are a library photo's: it comes first.
    expect(await results.getByRole('img').first().getAttribute('alt')).toBe(stem(library[2]!));
    await page
      .getByRole('alert')
      .filter({ hasText: `Could not open ${missing}: No such file` })
      .waitFor();

    const picks = page.getByRole('group', { name: 'Opened files' });
    expect(await picks.getByRole('button').allTextContents()).toEqual(['IMG 1.jpg', `it's "2" $HOME.png`]);
    await picks.getByRole('button', { name: `it's "2" $HOME.png` }).click();
    await page.getByRole('heading', { name: `Photos similar to it's "2" $HOME.png` }).waitFor();
    await results
      .getByRole('img', { name: stem(library[5]!), exact: true })
      .first()
      .waitFor();
    expect(await results.getByRole('img').first().getAttribute('alt')).toBe(stem(library[5]!));

    // Closed, the page lets the command stop by itself.
    const exited = new Promise<number | null>((resolve) => run.child.once('exit', resolve));
    await page.close();
    expect(await exited).toBe(0);
    expect(run.stderr()).toContain('doppel: the page was closed; stopping');
  }, 120_000);

  it('with no file readable, the Library says why', async () => {
    const run = await findSimilar([missing]);
    const page = await browser.newPage();
    await page.goto(run.url);
    await page
      .getByRole('status')
      .filter({ hasText: `Could not open ${missing}: No such file` })
      .waitFor();
    await page.close();
    run.child.kill('SIGTERM');
    await new Promise((resolve) => run.child.once('exit', resolve));
  }, 60_000);
});
