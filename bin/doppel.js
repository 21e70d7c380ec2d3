#!/usr/bin/env node
// `doppel` on the PATH: runs the bundled CLI that `npm run build` (or `npm run build:cli`) writes to out/cli.
// It calls main() itself, so the command runs however it is started: `npx doppel`, a global install,
// `npm link`, `node bin/doppel.js` or a symbolic link of any name.
//
// CommonJS (bin/package.json), so that these lines run before anything uses libuv's thread pool (an ES module
// entry is read through it): a read of a drive that stopped answering holds one of its threads for good, and
// with the default four a hung network share would stall every other file and the decoders. The pool is sized
// for the files indexing keeps in flight (two per core) and then some.
'use strict';
const { existsSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

process.env.UV_THREADPOOL_SIZE ??= String(Math.min(1024, Math.max(16, 4 * os.availableParallelism())));

const cli = path.join(__dirname, '..', 'out', 'cli', 'doppel.js');
if (!existsSync(cli)) {
  process.stderr.write('doppel: run `npm run build` first\n');
  process.exit(1);
}
import(pathToFileURL(cli).href).then(
  async ({ main }) => {
    process.exitCode = await main(process.argv);
  },
  (err) => {
    process.stderr.write(`doppel: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
