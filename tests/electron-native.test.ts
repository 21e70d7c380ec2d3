// scripts/electron-native.mjs (run by npm start and npm run dev): a better-sqlite3 build is only kept for
// Electron when its ABI is Electron's, and without the network the script stops with one line that names what
// it could not download. The ABI checks run on the real better-sqlite3 build that Node uses.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';

interface ElectronNative {
  moduleAbi(file: string): number | null;
  keepIfAbi(file: string, abi: number): boolean;
}
const SCRIPT = path.join(REPO, 'scripts', 'electron-native.mjs');
// A variable specifier: the script is plain JavaScript, loaded as it is run.
const load = async (): Promise<ElectronNative> => (await import(SCRIPT)) as ElectronNative;
const NODE_BUILD = path.join(REPO, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const ELECTRON_ABI = Number(fs.readFileSync(path.join(REPO, 'node_modules', 'electron', 'abi_version'), 'utf8'));
const tmp = tempDir('doppel-electron-native-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('electron-native', () => {
  it("reads a native module's ABI and keeps a build only for the ABI asked for", async () => {
    const { moduleAbi, keepIfAbi } = await load();
    expect(moduleAbi(NODE_BUILD)).toBe(Number(process.versions.modules));
    expect(ELECTRON_ABI).not.toBe(Number(process.versions.modules));
    const copy = path.join(tmp, 'better_sqlite3.node');
    fs.copyFileSync(NODE_BUILD, copy);
    expect(keepIfAbi(copy, Number(process.versions.modules))).toBe(true);
    expect(fs.existsSync(copy)).toBe(true);
    // Node's build where Electron's is wanted (what an npmrc nodedir used to produce): removed, never cached.
    expect(keepIfAbi(copy, ELECTRON_ABI)).toBe(false);
    expect(fs.existsSync(copy)).toBe(false);
  });

  it('stops with one line naming the download when the Electron binary cannot be fetched', () => {
    const installed = fs.existsSync(path.join(REPO, 'node_modules', 'electron', 'path.txt'));
    const r = spawnSync(process.execPath, [SCRIPT], {
      encoding: 'utf8',
      env: { ...process.env, npm_lifecycle_event: 'start' },
      timeout: 600_000,
    });
    if (installed || r.status === 0) return; // the binary is there (or this machine could download it)
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^npm start: could not download (the Electron [\d.]+ binary for \S+|better-sqlite3 for Electron [\d.]+) \(.*\).* run npm start again\n$/,
    );
  });
});
