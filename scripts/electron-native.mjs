// better-sqlite3 for Electron's ABI, built apart from Node's copy so the CLI and the tests keep working.
// Writes out/native/electron-<version>/better_sqlite3.node (once); the Electron main process points
// better-sqlite3 at it through DOPPEL_SQLITE_BINDING. First a prebuilt binary (prebuild-install), else a
// build from source against Electron's headers (node-gyp). Both need the network on first run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const version = require('electron/package.json').version;
const dest = path.join(root, 'out', 'native', `electron-${version}`, 'better_sqlite3.node');
if (fs.existsSync(dest)) process.exit(0);

const work = path.join(root, 'out', 'native', `build-electron-${version}`);
fs.rmSync(work, { recursive: true, force: true });
fs.cpSync(path.dirname(require.resolve('better-sqlite3/package.json')), work, {
  recursive: true,
  filter: (src) => !src.includes(`${path.sep}build${path.sep}`) && !src.endsWith(`${path.sep}build`),
});
const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
const run = (script, args) => spawnSync(process.execPath, [script, ...args], { cwd: work, stdio: 'inherit' });

run(require.resolve('prebuild-install/bin.js'), ['--runtime', 'electron', '--target', version]);
if (!fs.existsSync(built)) {
  run(require.resolve('node-gyp/bin/node-gyp.js'), [
    'rebuild',
    '--release',
    `--target=${version}`,
    '--runtime=electron',
    '--dist-url=https://electronjs.org/headers',
  ]);
}
if (!fs.existsSync(built)) {
  console.error(`electron-native: could not get better-sqlite3 for Electron ${version}`);
  process.exit(1);
}
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.copyFileSync(built, dest);
fs.rmSync(work, { recursive: true, force: true });
console.log(`electron-native: ${path.relative(root, dest)}`);
