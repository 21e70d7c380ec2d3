// Starts the real built `doppel serve` (bin/doppel.js) on a temporary library, and a headless Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';
import { build, type InlineConfig } from 'vite';
import electronViteConfig from '../../electron.vite.config.js';
import { REPO } from '../helpers.js';

export const CHROMIUM = process.env.DOPPEL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Builds the renderer into out/renderer with the renderer section of electron.vite.config.ts, so the browser
 * tests always run the current sources (a few seconds).
 */
export async function buildRenderer(): Promise<void> {
  const renderer = (electronViteConfig as { renderer: InlineConfig }).renderer;
  await build({ ...renderer, configFile: false, base: './', logLevel: 'warn' });
}

export interface Served {
  url: string;
  process: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** `doppel serve --db <dbPath>` with HOME and XDG_DATA_HOME under `home` (so the trash is a temporary one). */
export async function serve(dbPath: string, home: string): Promise<Served> {
  if (!fs.existsSync(path.join(REPO, 'out/cli/doppel.js'))) {
    throw new Error('out/cli/doppel.js is missing: run `npm run build:cli` first (npm test does)');
  }
  const child = spawn(process.execPath, [path.join(REPO, 'bin/doppel.js'), 'serve', '--db', dbPath], {
    cwd: REPO,
    env: {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      DOPPEL_HOME: path.join(home, 'doppel'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`doppel serve exited (${code}) before printing its URL: ${err}`)));
  });
  return {
    url,
    process: child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's own sandbox does not start as root (CI containers run as root).
    args: ['--disable-dev-shm-usage', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}
