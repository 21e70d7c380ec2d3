// What the running desktop app puts in the file managers' menus when Settings' switch is turned on: the app itself
// when packaged (`<its executable> --find-similar <files...>`; an AppImage's own file, not the mount it runs from);
// run from a checkout (`npm start`, where the executable is Electron's), what `doppel integrate install` would
// install: the installed app, else the CLI's `doppel find-similar`. Free of runtime electron imports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IntegrationHost } from '../core/integrate/integration.js';
import { xdgDirs } from '../core/integrate/linux.js';
import { resolveTarget, type Target } from '../core/integrate/target.js';
import { findProjectRoot } from '../core/paths.js';

export interface AppIntegrationOptions {
  platform: NodeJS.Platform;
  /** Electron's app.isPackaged. */
  isPackaged: boolean;
  /** process.execPath: the app's executable when packaged. */
  execPath: string;
  env: NodeJS.ProcessEnv;
}

/** The first executable `name` on the PATH of `env`, or null. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not there
    }
  }
  return null;
}

/** What the entries run, before the files. */
export function appTarget(o: AppIntegrationOptions): Target {
  if (o.isPackaged) {
    // An AppImage runs from a mount that is gone once it quits; APPIMAGE names the file that was started.
    const appImage = o.env.APPIMAGE;
    const exe = appImage && path.isAbsolute(appImage) ? appImage : o.execPath;
    return { command: [exe, '--find-similar'], what: `the desktop app at ${exe} (this app)` };
  }
  // Electron's executable cannot run the CLI: Node's can (a file manager's PATH may lack it, so its full path).
  return resolveTarget({ projectRoot: findProjectRoot(), nodePath: onPath('node', o.env) ?? 'node' });
}

export function appIntegration(o: AppIntegrationOptions): IntegrationHost {
  return {
    platform: o.platform,
    dirs: () => xdgDirs(o.env, os.homedir()),
    target: () => appTarget(o),
    who: 'the app',
  };
}
