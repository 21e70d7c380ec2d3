// What `npm start` and `npm run dev` need before electron-vite starts the app, fetched on first start:
// 1. the Electron binary, the way electron's own package gets it (its install.js, `install-electron`: electron 45
//    has no install script, and electron-vite only reads node_modules/electron/path.txt);
// 2. better-sqlite3 for Electron's ABI, built apart from Node's copy so the CLI and the tests keep working:
//    out/native/electron-<version>/better_sqlite3.node, which the Electron main process points better-sqlite3 at
//    (DOPPEL_SQLITE_BINDING). First a prebuilt binary (prebuild-install), else a build from source against
//    Electron's headers (node-gyp). A file is only kept when its ABI is Electron's (node_modules/electron/abi_version).
// Both need the network on first start. When a download fails, this prints one line naming what could not be
// downloaded and how to retry (the tools' own output goes to out/native/electron-native.log) and exits 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The ABI a native Node module was built for: the N in the node_register_module_vN it exports (null if none). */
export function moduleAbi(file) {
  const match = /node_register_module_v(\d+)/.exec(fs.readFileSync(file).toString('latin1'));
  return match ? Number(match[1]) : null;
}

/** Keeps `file` only when it was built for `abi`; says whether it is (still) there. */
export function keepIfAbi(file, abi) {
  if (!fs.existsSync(file)) return false;
  if (moduleAbi(file) === abi) return true;
  fs.rmSync(file, { force: true });
  return false;
}

class Failure extends Error {}

const event = process.env.npm_lifecycle_event;
/** How this was started, for the retry hint: npm start, npm run dev, or the script itself. */
const command = event === 'start' ? 'npm start' : event ? `npm run ${event}` : 'node scripts/electron-native.mjs';

function main() {
  const electronDir = path.dirname(require.resolve('electron/package.json'));
  const version = require('electron/package.json').version;
  const abi = Number(fs.readFileSync(path.join(electronDir, 'abi_version'), 'utf8').trim());
  const target = `${process.platform}-${process.arch}`;
  const log = path.join(root, 'out', 'native', 'electron-native.log');
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, '');
  // node-gyp and prebuild-install read npm's configuration from the environment: an npmrc `nodedir` would make
  // node-gyp build against Node's headers instead of Electron's, so it is left out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_nodedir$/i.test(k)));
  const run = (args, cwd) => {
    const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
    fs.appendFileSync(log, `$ node ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`);
    return r;
  };
  const firstLine = (r) =>
    `${r.stderr ?? ''}${r.stdout ?? ''}`
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? `exit status ${r.status}`;

  // 1. The Electron binary (install.js does nothing when it is there; it caches downloads in ~/.cache/electron).
  const install = run([path.join(electronDir, 'install.js')], electronDir);
  if (install.status !== 0 || !fs.existsSync(path.join(electronDir, 'path.txt'))) {
    throw new Failure(
      `could not download the Electron ${version} binary for ${target} (${firstLine(install)}); ` +
        `connect to the network (or set ELECTRON_MIRROR) and run ${command} again`,
    );
  }

  // 2. better-sqlite3 for Electron's ABI.
  const dest = path.join(root, 'out', 'native', `electron-${version}`, 'better_sqlite3.node');
  if (keepIfAbi(dest, abi)) return;
  const work = path.join(root, 'out', 'native', `build-electron-${version}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.cpSync(path.dirname(require.resolve('better-sqlite3/package.json')), work, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}build${path.sep}`) && !src.endsWith(`${path.sep}build`),
  });
  const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
  const prebuilt = run(
    [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', version],
    work,
  );
  let failed = keepIfAbi(built, abi) ? null : prebuilt;
  if (failed) {
    const gyp = run(
      [
        require.resolve('node-gyp/bin/node-gyp.js'),
        'rebuild',
        '--release',
        `--target=${version}`,
        '--runtime=electron',
        '--dist-url=https://electronjs.org/headers',
      ],
      work,
    );
    failed = keepIfAbi(built, abi) ? null : gyp;
  }
  if (failed) {
    throw new Failure(
      `could not download better-sqlite3 for Electron ${version} (ABI ${abi}, ${target}): neither a prebuilt ` +
        `binary nor Electron's headers to build one (${firstLine(failed)}; details: ${path.relative(root, log)}); ` +
        `connect to the network and run ${command} again`,
    );
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(built, dest);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`electron-native: ${path.relative(root, dest)} (ABI ${abi})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    console.error(`${command}: ${err.message}`);
    process.exit(1);
  }
}
