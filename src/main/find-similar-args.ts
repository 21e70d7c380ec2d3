// `Doppel --find-similar <file...>`: which files a command line names, for the app started with it and for a second
// launch that the single-instance lock forwards to the running app. Pure: no electron, no file system.
//
// What Electron's argv looks like:
// - packaged app: [the app's binary, ...arguments];
// - development (`electron <app path> ...`, process.defaultApp set): [electron, (switches,) <app path>, ...];
// - Chromium may add switches of its own anywhere (`--no-sandbox`, `--original-process-start-time=...`), and in the
//   argv a second instance passes on, puts switches before the other arguments on some platforms;
// - files are named relative to the working folder of the process that was started (`second-instance` passes the
//   other instance's), or as file:// URIs by some file managers.
// So: `--find-similar` anywhere turns the request on, and every argument that is not a switch (after the app path in
// development) is a file; after `--`, every argument is a file, even one starting with '-'.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIND_SIMILAR_SWITCH = '--find-similar';

/** How many files one command line may name; the rest are dropped (NAMED_IMAGE_LIMITS reads fewer anyway). */
export const MAX_NAMED_FILES = 1000;

export interface ArgvContext {
  /** The working folder relative names are resolved against. */
  cwd: string;
  /** process.defaultApp: the app runs from `electron <app path>`, whose first non-switch argument is that path. */
  defaultApp: boolean;
}

function toAbsolute(arg: string, cwd: string): string | null {
  if (/^file:\/\//i.test(arg)) {
    try {
      return fileURLToPath(arg);
    } catch {
      return null; // a file:// URI of another host, or malformed
    }
  }
  return path.resolve(cwd, arg);
}

/**
 * The absolute paths of the files a command line asks "find similar" for, in order and each once; null when it
 * does not ask (no `--find-similar`): a plain launch. `--find-similar` with no file gives [].
 */
export function findSimilarFiles(argv: readonly string[], ctx: ArgvContext): string[] | null {
  let asked = false;
  let appPathSkipped = !ctx.defaultApp;
  let positionalOnly = false;
  const named: string[] = [];
  for (const arg of argv.slice(1)) {
    if (!positionalOnly && arg === '--') {
      positionalOnly = true;
      continue;
    }
    if (!positionalOnly && arg.startsWith('-') && arg !== '-') {
      if (arg === FIND_SIMILAR_SWITCH) asked = true;
      else if (arg.startsWith(`${FIND_SIMILAR_SWITCH}=`)) {
        asked = true;
        const value = arg.slice(FIND_SIMILAR_SWITCH.length + 1);
        if (value) named.push(value);
      }
      continue; // a switch of Chromium's, Electron's or Node's
    }
    if (!appPathSkipped) {
      appPathSkipped = true;
      continue;
    }
    if (arg !== '') named.push(arg);
  }
  if (!asked) return null;
  const files: string[] = [];
  for (const arg of named) {
    const file = toAbsolute(arg, ctx.cwd);
    if (file !== null && !files.includes(file)) files.push(file);
    if (files.length >= MAX_NAMED_FILES) break;
  }
  return files;
}

/**
 * What a launch hands the running instance beside its argv (app.requestSingleInstanceLock's additionalData): the
 * files it was asked about, already resolved against its own working folder and parsed from its own argv, which
 * Chromium has not rearranged.
 */
export type LaunchData = { findSimilar: string[] | null };

export function launchData(files: string[] | null): LaunchData {
  return { findSimilar: files };
}

/**
 * The files a second launch asks about: from its additionalData when that is a well-formed LaunchData, else parsed
 * from the argv and working folder `second-instance` passes on. null: it asked nothing (show the window only).
 */
export function filesOfSecondInstance(
  argv: readonly string[],
  workingDirectory: string,
  additionalData: unknown,
  defaultApp: boolean,
): string[] | null {
  const data = additionalData as Partial<LaunchData> | null | undefined;
  if (data && typeof data === 'object' && 'findSimilar' in data) {
    const files = data.findSimilar;
    if (files === null) return null;
    if (Array.isArray(files) && files.every((f) => typeof f === 'string' && path.isAbsolute(f)))
      return [...new Set(files)].slice(0, MAX_NAMED_FILES);
  }
  return findSimilarFiles(argv, { cwd: workingDirectory, defaultApp });
}
