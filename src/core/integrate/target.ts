// What the file-manager entries run with the selected files appended, when `doppel integrate` (or the desktop app
// run from a checkout) installs them: the desktop app where it is installed, else the CLI's `doppel find-similar`,
// which opens the app's page in the browser (through `doppel serve`). A packaged app installs itself (src/main).
import fs from 'node:fs';
import path from 'node:path';

export interface Target {
  /** The command before the files: the files are appended, one argument each. */
  command: string[];
  /** What it is, for `doppel integrate status`. */
  what: string;
}

/** Where the Linux packages of electron-builder.yml put the app (deb: /opt/<productName>/<executableName>). */
export const INSTALLED_APP_PATHS = ['/opt/Doppel/doppel'];

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface TargetOptions {
  /** An executable given with `--app`: run as `<app> --find-similar <files...>`. */
  app?: string;
  /** The project (checkout or installed package) this CLI runs from: holds bin/doppel.js. */
  projectRoot: string;
  /** The Node.js binary running this CLI. */
  nodePath: string;
  installedAppPaths?: readonly string[];
}

/**
 * The command the entries run: `--app`, else the installed desktop app, else `node <project>/bin/doppel.js
 * find-similar`. (A checkout's Electron app is not used: it needs `npm start`'s downloads and a dev launcher.)
 */
export function resolveTarget(opts: TargetOptions): Target {
  if (opts.app) {
    const app = path.resolve(opts.app);
    if (!isExecutableFile(app)) throw new Error(`--app ${opts.app}: not an executable file`);
    return { command: [app, '--find-similar'], what: `the app at ${app} (--app)` };
  }
  for (const app of opts.installedAppPaths ?? INSTALLED_APP_PATHS) {
    if (isExecutableFile(app)) return { command: [app, '--find-similar'], what: `the desktop app at ${app}` };
  }
  const cli = path.join(opts.projectRoot, 'bin', 'doppel.js');
  return {
    command: [opts.nodePath, cli, 'find-similar'],
    what: `this CLI's \`doppel find-similar\` (${cli}; the desktop app is not installed): the app's page in the browser`,
  };
}
