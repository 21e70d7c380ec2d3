import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_NAME = 'Doppel';

/**
 * The per-user data folder, the same one Electron's `app.getPath('userData')` gives the desktop app
 * (productName "Doppel"), so the CLI and the app share one library by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.DOPPEL_HOME) return path.resolve(env.DOPPEL_HOME);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
}

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultDataDir(env), 'library.sqlite');
}

/** True when `file` lies inside `folder` (or is it). Both absolute. */
export function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Thumbnails are cached beside the database they belong to. */
export function thumbnailDirFor(dbPath: string): string {
  return dbPath === ':memory:'
    ? path.join(os.tmpdir(), 'doppel-thumbs')
    : path.join(path.dirname(dbPath), 'thumbnails');
}

/**
 * The project root (where `models/` lives), found by walking up from this module: it works from the
 * TypeScript sources, from the bundled CLI in out/cli and from the packaged app's resources.
 */
export function findProjectRoot(start = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (fsExists(path.join(dir, 'models')) && fsExists(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function defaultModelsDir(): string {
  return process.env.DOPPEL_MODELS ? path.resolve(process.env.DOPPEL_MODELS) : path.join(findProjectRoot(), 'models');
}

/** The models that ship with Doppel (`models/` of the project), whatever DOPPEL_MODELS says. */
export function shippedModelsDir(): string {
  return path.join(findProjectRoot(), 'models');
}

/** Where `doppel train` and `doppel fit-views` write models unless told otherwise: beside the library. */
export function userModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultDataDir(env), 'models');
}

/** Whether a model folder is one of the shipped models (one that exists in shippedModelsDir). */
export function isShippedModel(dir: string): boolean {
  const real = (p: string): string => (fsExists(p) ? realpathSync(p) : path.resolve(p));
  const shipped = real(shippedModelsDir());
  const target = real(dir);
  return path.dirname(target) === shipped && fsExists(path.join(target, 'model.json'));
}

import { existsSync as fsExists, realpathSync } from 'node:fs';

/**
 * Sets `mode` (0600 for a file, 0700 for a folder) on each path that others can read or write: a library made before
 * its files were created owner-only. Paths that are absent, or not the user's to change, are left as they are.
 */
export function restrictToOwner(paths: readonly string[], mode: number): void {
  for (const p of paths) {
    try {
      if ((fs.statSync(p).mode & 0o077) !== 0) fs.chmodSync(p, mode);
    } catch {
      // absent (created owner-only when first written), or not the user's
    }
  }
}
