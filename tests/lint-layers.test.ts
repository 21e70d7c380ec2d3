// The layering rules of docs/ARCHITECTURE.md are enforced by eslint.config.js; these cases pin them down by linting
// snippets placed virtually in each layer with ESLint's Node API.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_BASE, CORE_ROOMS, CORE_TOP } from '../eslint.config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (!result) throw new Error(`no lint result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`${file} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const refused: [what: string, file: string, code: string][] = [
  ['core importing electron', 'src/core/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
  ['core importing electron types', 'src/core/x.ts', "import type { App } from 'electron';\nexport type A = App;\n"],
  ['core importing main', 'src/core/x.ts', "export { start } from '../main/start.js';\n"],
  ['core re-exporting the cli', 'src/core/indexer/x.ts', "export * from '../../cli/index.js';\n"],
  [
    'renderer importing core',
    'src/renderer/x.ts',
    "import { open } from '../core/service.js';\nexport const o = open;\n",
  ],
  [
    'a renderer component importing core',
    'src/renderer/components/Grid.svelte',
    '<script lang="ts">\n  import { open } from \'../../core/service.js\';\n  open();\n</script>\n',
  ],
  [
    'renderer importing electron',
    'src/renderer/x.ts',
    "import { ipcRenderer } from 'electron';\nipcRenderer.send('x');\n",
  ],
  ['renderer importing a Node built-in', 'src/renderer/x.ts', "import fs from 'node:fs';\nexport const f = fs;\n"],
  [
    'renderer importing an engine package',
    'src/renderer/x.ts',
    "import sharp from 'sharp';\nexport const s = sharp;\n",
  ],
  [
    'preload importing main',
    'src/preload/x.ts',
    "import { registerIpc } from '../main/ipc.js';\nexport const r = registerIpc;\n",
  ],
  ['preload importing a Node built-in', 'src/preload/x.ts', "import fs from 'node:fs';\nexport const f = fs;\n"],
  ['cli importing main', 'src/cli/x.ts', "import { start } from '../main/start.js';\nexport const s = start;\n"],
  ['cli importing electron', 'src/cli/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
  ['server importing the cli', 'src/server/x.ts', "import { run } from '../cli/index.js';\nexport const r = run;\n"],
  [
    'main importing the server',
    'src/main/x.ts',
    "import { serve } from '../server/index.js';\nexport const s = serve;\n",
  ],
  [
    'main importing the renderer',
    'src/main/x.ts',
    "import App from '../renderer/App.svelte';\nexport const a = App;\n",
  ],
  ['shared importing core', 'src/shared/x.ts', "import { open } from '../core/service.js';\nexport const o = open;\n"],
  ['shared importing a package', 'src/shared/x.ts', "import { z } from 'zod';\nexport const s = z.string();\n"],
  ['shared importing a Node built-in', 'src/shared/x.ts', "import path from 'node:path';\nexport const p = path;\n"],
  [
    'core outside the store importing better-sqlite3',
    'src/core/library/x.ts',
    "import Database from 'better-sqlite3';\nexport const d = Database;\n",
  ],
  [
    'main importing better-sqlite3',
    'src/main/x.ts',
    "import Database from 'better-sqlite3';\nexport const d = Database;\n",
  ],
  // The rooms of src/core, lowest first (CORE_ROOMS in eslint.config.js).
  [
    'search importing duplicates (a room above it)',
    'src/core/search/x.ts',
    "import type { G } from '../duplicates/grouping.js';\nexport type A = G;\n",
  ],
  ['the store importing search', 'src/core/store/x.ts', "import { y } from '../search/y.js';\nexport const a = y;\n"],
  [
    'a store sub-folder importing search',
    'src/core/store/migrations/x.ts',
    "import { y } from '../../search/y.js';\nexport const a = y;\n",
  ],
  ['imaging importing the indexer', 'src/core/imaging/x.ts', "export { y } from '../indexer/y.js';\n"],
  [
    'a room importing the service',
    'src/core/duplicates/x.ts',
    "import { DoppelService } from '../service.js';\nexport const a = DoppelService;\n",
  ],
  [
    'a room importing the media files',
    'src/core/indexer/x.ts',
    "import { y } from '../media.js';\nexport const a = y;\n",
  ],
  [
    'a base file importing a room',
    'src/core/paths.ts',
    "import { Store } from './store/repository.js';\nexport const a = Store;\n",
  ],
  [
    'a base file importing the service',
    'src/core/vectors.ts',
    "import { y } from './service.js';\nexport const a = y;\n",
  ],
];

const allowed: [what: string, file: string, code: string][] = [
  ['cli importing core', 'src/cli/x.ts', "import { y } from '../core/y.js';\nexport const a = y;\n"],
  [
    'cli importing shared',
    'src/cli/x.ts',
    "import { API_MEMBERS } from '../shared/api.js';\nexport const a = API_MEMBERS;\n",
  ],
  [
    'main importing electron and core',
    'src/main/x.ts',
    "import { app } from 'electron';\nimport { y } from '../core/y.js';\nexport const a = [app, y];\n",
  ],
  [
    'preload importing electron and shared',
    'src/preload/x.ts',
    "import { ipcRenderer } from 'electron';\nimport { channelFor } from '../shared/ipc.js';\nexport const a = [ipcRenderer, channelFor];\n",
  ],
  [
    'renderer importing shared and svelte',
    'src/renderer/x.ts',
    "import { mount } from 'svelte';\nimport { API_MEMBERS } from '../shared/api.js';\nexport const a = [mount, API_MEMBERS];\n",
  ],
  [
    'shared importing shared',
    'src/shared/x.ts',
    "import { API_MEMBERS } from './api.js';\nexport const a = API_MEMBERS;\n",
  ],
  [
    'the store importing better-sqlite3',
    'src/core/store/x.ts',
    "import Database from 'better-sqlite3';\nexport const d = Database;\n",
  ],
  [
    'a store sub-folder importing better-sqlite3',
    'src/core/store/migrations/x.ts',
    "import Database from 'better-sqlite3';\nexport const d = Database;\n",
  ],
  [
    'core importing its own sub-folder named like a layer',
    'src/core/indexer/x.ts',
    "import { y } from '../main/y.js';\nexport const a = y;\n",
  ],
  [
    'a room importing one below it',
    'src/core/duplicates/x.ts',
    "import { y } from '../indexer/y.js';\nexport const a = y;\n",
  ],
  [
    'a room importing the base files',
    'src/core/search/x.ts',
    "import { cosine } from '../vectors.js';\nexport const a = cosine;\n",
  ],
  [
    'the service importing every room',
    'src/core/service.ts',
    "import { y } from './eval/y.js';\nimport { z } from './store/z.js';\nexport const a = [y, z];\n",
  ],
  [
    'tests importing from any layer',
    'tests/x.test.ts',
    "import { registerIpc } from '../src/main/ipc.js';\nimport Database from 'better-sqlite3';\nexport const a = [registerIpc, Database];\n",
  ],
];

describe('layering rules (eslint no-restricted-imports)', () => {
  it.each(refused)('refuses %s', async (_what, file, code) => {
    expect(await restrictedImports(file, code)).not.toEqual([]);
  });

  it.each(allowed)('allows %s', async (_what, file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });

  it('explains the rule in the message', async () => {
    const [message] = await restrictedImports(
      'src/core/x.ts',
      "import { app } from 'electron';\nexport const a = app;\n",
    );
    expect(message).toMatch(/electron/);
  });
});

describe('the rooms of src/core', () => {
  it('lists every folder and file of src/core in its place', () => {
    const core = path.join(root, 'src', 'core');
    const entries = fs.readdirSync(core, { withFileTypes: true });
    const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const files = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name.slice(0, -3));
    expect([...folders].sort()).toEqual([...CORE_ROOMS].sort());
    expect([...files].sort()).toEqual([...CORE_BASE, ...CORE_TOP].sort());
  });
});

/** The relative imports (static, dynamic and type-only) of each .ts file under `dir`, as resolved file paths. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, e.name);
      if (e.isDirectory()) walk(file);
      else if (/\.(ts|svelte)$/.test(e.name)) {
        const source = fs.readFileSync(file, 'utf8');
        const specs = [
          ...source.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s+'(\.[^']+)'/g),
          ...source.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
        ].map((m) => m[1]!);
        graph.set(
          file,
          specs.map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts')),
        );
      }
    }
  };
  walk(dir);
  return graph;
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('imports', () => {
  it('finds a cycle where there is one (the check itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
  });

  it('form no cycle in src, type-only and dynamic imports included', () => {
    const graph = importGraph(path.join(root, 'src'));
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph).map((c) => c.map((f) => path.relative(root, f)))).toEqual([]);
  });
});
