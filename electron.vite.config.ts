import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;
const indexerWorker = resolve(root, 'src/core/indexer/worker.ts');
const verifyWorker = resolve(root, 'src/core/duplicates/verify-worker.ts');

export default defineConfig({
  // ESM (package.json "type": "module") -> out/main/index.js, plus the indexer's and the verifier's workers beside it,
  // as out/cli/worker.js sits beside out/cli/doppel.js. npm dependencies stay external (externalizeDeps).
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          ...(existsSync(indexerWorker) ? { worker: indexerWorker } : {}),
          ...(existsSync(verifyWorker) ? { 'verify-worker': verifyWorker } : {}),
        },
      },
    },
  },
  // Sandboxed preloads must be CommonJS -> out/preload/index.cjs; src/shared is bundled in, only electron is external.
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src/renderer/index.html') },
      },
    },
  },
});
