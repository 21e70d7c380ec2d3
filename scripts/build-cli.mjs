// Bundles the headless CLI (src/cli/index.ts) to out/cli/doppel.js, and the indexer's worker thread
// (src/core/indexer/worker.ts, when it exists) beside it as out/cli/worker.js, and the duplicate verifier's
// (src/core/duplicates/verify-worker.ts) as out/cli/verify-worker.js. npm packages stay external:
// they are resolved from node_modules at run time (native sharp/better-sqlite3, tfjs's wasm files).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'out/cli');

const entries = [
  { in: 'src/cli/index.ts', out: 'doppel', required: true },
  { in: 'src/core/indexer/worker.ts', out: 'worker', required: false },
  { in: 'src/core/duplicates/verify-worker.ts', out: 'verify-worker', required: false },
];

const entryPoints = [];
for (const entry of entries) {
  if (existsSync(path.join(root, entry.in))) entryPoints.push({ in: path.join(root, entry.in), out: entry.out });
  else if (entry.required) {
    console.error(`build-cli: ${entry.in} is missing`);
    process.exit(1);
  }
}

const result = await build({
  absWorkingDir: root,
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  packages: 'external',
  logLevel: 'warning',
  metafile: true,
  // Commands that need more (the HTTP bridge and zod for `serve`, TensorFlow.js for `eval`/`train`/...) load
  // their code as separate chunks when they run, so that every other command starts without it.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled ESM has no `require`; CommonJS-only code paths (and createRequire users) get one.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
});

for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.map')) console.log(`build-cli: ${path.relative(root, path.join(root, file))} ${bytes} bytes`);
}
