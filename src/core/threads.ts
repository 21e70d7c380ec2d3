// Worker threads from the sources or from a bundle: the script beside the calling module (out/cli/<name>.js beside
// the bundled CLI, out/main/<name>.js beside the Electron main process), or <name>.ts from the sources (through
// tsx's loader, as under vitest).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DoppelError } from '../shared/api.js';

function workerScript(name: string, from: string): { url: URL; typescript: boolean } {
  // A bundler may put the calling module in a chunk folder below the entry: look beside it and one level up.
  for (const rel of [`./${name}.js`, `../${name}.js`]) {
    const js = new URL(rel, from);
    if (fs.existsSync(fileURLToPath(js))) return { url: js, typescript: false };
  }
  const ts = new URL(`./${name}.ts`, from);
  if (fs.existsSync(fileURLToPath(ts))) return { url: ts, typescript: true };
  throw new DoppelError('internal', `The worker ${name} is missing beside ${fileURLToPath(from)}`);
}

/** Starts the worker script `name` found beside the module at `from` (its import.meta.url). */
export function spawnWorker(name: string, from: string, workerData: unknown): Worker {
  const { url, typescript } = workerScript(name, from);
  if (!typescript) return new Worker(url, { workerData });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
