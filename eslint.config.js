// Flat config. Besides the usual recommended sets, this file enforces Doppel's layering rules
// (docs/ARCHITECTURE.md, "Layering rules") with no-restricted-imports, so a wrong import fails `npm run lint`.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** Which other layers each layer under src/ may import. Anything else under src/ is off limits. */
const LAYERS = {
  shared: [],
  core: ['shared'],
  main: ['core', 'shared'],
  cli: ['core', 'shared', 'server'],
  server: ['core', 'shared'],
  preload: ['shared'],
  renderer: ['shared'],
};

/**
 * The rooms of src/core, lowest first: each may import the ones before it and the base files (CORE_BASE), never
 * one after it nor the service files (CORE_TOP), which may import everything. docs/ARCHITECTURE.md, "Layering
 * rules"; tests/lint-layers.test.ts checks that every folder of src/core is listed here.
 */
export const CORE_ROOMS = [
  'store',
  'imaging',
  'library',
  'integrate',
  'search',
  'model',
  'training',
  'indexer',
  'duplicates',
  'eval',
];
/** Files directly in src/core that every room may import: they import no room. */
export const CORE_BASE = ['api-schema', 'atomic', 'events', 'paths', 'random', 'threads', 'vectors'];
/** Files directly in src/core above every room: the service facade, the media it serves, the settings. */
export const CORE_TOP = ['service', 'host', 'media', 'settings'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const NODE_BUILTINS = `^(node:.*|(${builtinModules.map(escape).join('|')})(/.*)?)$`;
/** The engine's runtime dependencies: Node-only packages that belong behind src/core, never in a web page. */
const ENGINE_PACKAGES = `^(${Object.keys(pkg.dependencies ?? {})
  .map(escape)
  .join('|')})(/.*)?$`;

const ELECTRON = {
  regex: '^electron(/.*)?$',
  message: 'Only src/main and src/preload may import electron; the engine and the CLI/bridge run under plain Node.',
};
const BETTER_SQLITE = {
  regex: '^better-sqlite3(/.*)?$',
  message: 'One way to the database: import better-sqlite3 only under src/core/store (SQL lives there).',
};

/** Package rules per layer, on top of the layer-to-layer rules. */
const PACKAGE_RULES = {
  shared: [
    {
      regex: '^(?!\\.{1,2}/)',
      message: 'src/shared is pure TypeScript: it imports nothing but other files in src/shared.',
    },
  ],
  core: [ELECTRON],
  main: [],
  cli: [ELECTRON],
  server: [ELECTRON],
  preload: [
    {
      regex: '^(?!\\.{1,2}/|electron$)',
      message: 'The sandboxed preload may import only electron and src/shared.',
    },
  ],
  renderer: [
    { ...ELECTRON, message: 'The renderer talks to the engine through window.doppel only; never import electron.' },
    { regex: NODE_BUILTINS, message: 'The renderer is a web page: no Node built-ins.' },
    {
      regex: ENGINE_PACKAGES,
      message: 'Engine packages (package.json dependencies) run in src/core; reach them through window.doppel.',
    },
  ],
};

/**
 * A relative import leaves its layer when it climbs to src/ and goes down another layer's folder. A file `depth`
 * folders below src/ needs exactly `depth` '../' to reach src/, so the rules are generated per depth: precise,
 * and a same-named sub-folder inside a layer (say src/core/store/main) is not mistaken for a layer.
 */
const MAX_DEPTH = 10;

function layerPatterns(layer, depth) {
  const forbidden = Object.keys(LAYERS).filter((other) => other !== layer && !LAYERS[layer].includes(other));
  if (forbidden.length === 0) return [];
  const up = escape('../'.repeat(depth));
  return [
    {
      regex: `^(\\./)?${up}(${forbidden.join('|')})(/|$)`,
      message: `src/${layer} may import only ${LAYERS[layer].map((l) => `src/${l}`).join(', ') || 'itself'} (docs/ARCHITECTURE.md, layering rules).`,
    },
  ];
}

/** no-restricted-imports patterns for a file `depth` folders below src/ in core room `room` (null: a base file). */
function roomPatterns(room, depth) {
  const above = room === null ? CORE_ROOMS : CORE_ROOMS.slice(CORE_ROOMS.indexOf(room) + 1);
  const toCore = room === null ? './' : '../'.repeat(depth - 1);
  const where = room === null ? 'the base files of src/core' : `src/core/${room}`;
  const may =
    room === null
      ? 'no room of src/core'
      : `src/core's base files and ${
          CORE_ROOMS.slice(0, CORE_ROOMS.indexOf(room))
            .map((r) => r + '/')
            .join(', ') || 'no room'
        }`;
  const message = `${where} may import only ${may} (docs/ARCHITECTURE.md, the rooms of src/core).`;
  const patterns = [{ regex: `^${escape(toCore)}(${CORE_TOP.join('|')})\\.js$`, message }];
  if (above.length > 0) patterns.push({ regex: `^${escape(toCore)}(${above.join('|')})(/|$)`, message });
  return patterns;
}

/** The core layer's rules with the rooms' order on top (flat config: the last matching config sets the rule). */
function coreRoomConfigs() {
  const configs = [];
  const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
  configs.push({
    name: 'doppel/core-rooms/base',
    files: CORE_BASE.map((f) => `src/core/${f}.ts`),
    rules: rule([...layerPatterns('core', 1), ...PACKAGE_RULES.core, BETTER_SQLITE, ...roomPatterns(null, 1)]),
  });
  for (const room of CORE_ROOMS) {
    for (let depth = 2; depth <= MAX_DEPTH; depth++) {
      const sqlite = room === 'store' ? [] : [BETTER_SQLITE];
      configs.push({
        name: `doppel/core-rooms/${room}/depth-${depth}`,
        files: [`src/core/${room}/${'*/'.repeat(depth - 2)}*.{ts,js,mjs,svelte}`],
        rules: rule([...layerPatterns('core', depth), ...PACKAGE_RULES.core, ...sqlite, ...roomPatterns(room, depth)]),
      });
    }
  }
  return configs;
}

function layerConfigs() {
  const configs = [];
  for (const layer of Object.keys(LAYERS)) {
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      const dir = `src/${layer}/${'*/'.repeat(depth - 1)}`;
      const patterns = [...layerPatterns(layer, depth), ...PACKAGE_RULES[layer]];
      configs.push({
        name: `doppel/layers/${layer}/depth-${depth}`,
        files: [`${dir}*.{ts,js,mjs,svelte}`],
        rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, BETTER_SQLITE] }] },
      });
      // The store is the one place allowed to open the database.
      if (layer === 'core' && depth >= 2) {
        configs.push({
          name: `doppel/layers/core-store/depth-${depth}`,
          files: [`src/core/store/${'*/'.repeat(depth - 2)}*.{ts,js,mjs,svelte}`],
          rules: { 'no-restricted-imports': ['error', { patterns }] },
        });
      }
    }
  }
  return configs;
}

export default defineConfig(
  {
    name: 'doppel/ignores',
    ignores: [
      'out/',
      'dist/',
      'release/',
      'coverage/',
      'models/',
      'node_modules/',
      '.train/',
      '.scratch/',
      '.cache/',
      'tmp/',
      'docs/screenshots/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  {
    name: 'doppel/defaults',
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    name: 'doppel/node-globals',
    ignores: ['src/renderer/**', 'src/preload/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    name: 'doppel/svelte',
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
        svelteConfig,
      },
    },
  },
  {
    // The `doppel` launcher is CommonJS (bin/package.json): it sizes libuv's pool before anything uses it.
    name: 'doppel/commonjs-launcher',
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    name: 'doppel/browser-globals',
    files: ['src/renderer/**', 'src/preload/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...layerConfigs(),
  ...coreRoomConfigs(),
);
