#!/usr/bin/env node
// `doppel` on the PATH: runs the bundled CLI that `npm run build` (or `npm run build:cli`) writes to out/cli.
// It calls main() itself, so the command runs however it is started: `npx doppel`, a global install,
// `npm link`, `node bin/doppel.js` or a symbolic link of any name.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/cli/doppel.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('doppel: run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv);
