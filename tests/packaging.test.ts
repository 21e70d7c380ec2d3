// The packaged app holds what the code loads at run time. electron-builder packages electron-builder.yml for real
// (the `dir` target, Linux x64) from the built out/, with a stand-in Electron distribution (Electron's binary cannot
// be downloaded on the build machines; electronDist: a folder holding a placeholder `electron`), nothing rebuilt and
// nothing published, into a temporary folder. The test then reads the app.asar it made (@electron/asar) and
// app.asar.unpacked, and checks them against what the code asks for, found in the code itself:
// - the entry files: package.json's main, and the preload and renderer files main hands to Electron
//   (src/main/packaged.ts, appFiles), with the assets index.html names;
// - every relative import of the bundles (chunks) and every worker script they start (`spawnWorker("<name>", ...)`
//   in the built bundles, looked up as src/core/threads.ts does);
// - every npm package the bundles import, require or load, which must be a production dependency, with the packages
//   it depends on; in them, every native binary (.node addons, shared libraries, programs: by their ELF, Mach-O or
//   PE header) and every .wasm file, unpacked (dlopen and the system's loader read real files only);
// - the models (models/, which the app resolves beside package.json and reads from app.asar.unpacked), unpacked;
// - the Electron build of better-sqlite3, where main looks for it (packaged.ts, electronSqliteBinding), unpacked;
// - nothing else: no sources, tests, benches, scratch files, source maps, and no file of ../shared/data.
// Packaging for real means the test also fails when electron-builder would drop or pack a file the globs seem to
// keep. A placeholder stands for out/native's better-sqlite3 when `npm start` has not built it (it needs the network).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as asar from '@electron/asar';
import { Arch, build, Platform } from 'electron-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '../src/core/library/scan.js';
import { appFiles, electronSqliteBinding, unpackedPath } from '../src/main/packaged.js';
import { DATA, REPO, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const ELECTRON_VERSION = (require('electron/package.json') as { version: string }).version;
const tmp = tempDir('doppel-packaging-');
const resources = path.join(tmp, 'release', 'linux-unpacked', 'resources');
const archive = path.join(resources, 'app.asar');
const unpackedDir = path.join(resources, 'app.asar.unpacked');
/** The archive as the packaged main process sees it: out/main inside app.asar. */
const packagedMain = path.join(archive, 'out', 'main');

interface AsarNode {
  files?: Record<string, AsarNode>;
  size?: number;
  unpacked?: boolean;
  link?: string;
  integrity?: { hash: string };
}

/** Every file of the archive (relative, with forward slashes) and its header entry. */
const packed = new Map<string, AsarNode>();
/** The placeholder written for out/native's better-sqlite3 (or the first folder made for it), removed after. */
let placeholderBinding: string | null = null;

function walk(node: AsarNode, prefix: string): void {
  for (const [name, child] of Object.entries(node.files ?? {})) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (child.files) walk(child, rel);
    else packed.set(rel, child);
  }
}

/** A path of the packaged app (absolute, inside app.asar) as a path relative to the archive. */
function inArchive(file: string): string {
  const rel = path.relative(archive, file);
  expect(rel.startsWith('..') || path.isAbsolute(rel), `${file} is outside app.asar`).toBe(false);
  return rel.split(path.sep).join('/');
}

function read(rel: string): string {
  return asar.extractFile(archive, rel).toString('utf8');
}

function expectPacked(rel: string, why: string): void {
  expect(packed.has(rel), `${rel} (${why}) is not in the package`).toBe(true);
}

function expectUnpacked(rel: string, why: string): void {
  expectPacked(rel, why);
  expect(packed.get(rel)?.unpacked, `${rel} (${why}) is inside app.asar, not unpacked`).toBe(true);
  expect(fs.existsSync(path.join(unpackedDir, rel)), `${rel} (${why}) is missing from app.asar.unpacked`).toBe(true);
}

/** The JavaScript the app runs: the bundles under out/ (main, its chunks and workers, the preload). */
function bundles(): string[] {
  return [...packed.keys()].filter(
    (rel) => rel.startsWith('out/') && /\.(c|m)?js$/.test(rel) && !rel.includes('/renderer/'),
  );
}

/** The specifiers a bundle imports, requires or loads: `from "x"`, `import("x")`, `require("x")`, `load("x")`, `)("x")`. */
function specifiers(code: string): string[] {
  const found = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bload\s*\(\s*|\)\s*\(\s*)["']([^"'\s]+)["']/g;
  for (const m of code.matchAll(re)) found.add(m[1]!);
  return [...found];
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The folder of package `name` as Node finds it from `from`: the nearest node_modules/<name> up the tree. */
function packageDir(name: string, from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

interface PackageJson {
  main?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = (file: string): PackageJson => JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson;

/**
 * Packages named in the bundles that a packaged app never loads, and why. Only with a reason that holds for the
 * packaged app: anything else the bundles name must ship.
 */
const NOT_LOADED_WHEN_PACKAGED: Readonly<Record<string, string>> = {
  tsx: 'src/core/threads.ts boots a worker through it only when the worker is TypeScript (the sources, not out/)',
};

/** The npm packages the bundles load by name (not Node's own modules, not electron). */
function loadedPackages(): string[] {
  const names = new Set<string>();
  for (const rel of bundles()) {
    for (const s of specifiers(read(rel))) {
      if (s.startsWith('.') || s.startsWith('/') || s.startsWith('node:') || builtinModules.includes(s)) continue;
      if (s === 'electron' || packageName(s) in NOT_LOADED_WHEN_PACKAGED) continue;
      names.add(packageName(s));
    }
  }
  return [...names].sort();
}

/** Package folders (installed ones) reached from `names` through dependencies, optional and peer ones included. */
function dependencyClosure(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = names.map((name) => ({ name, from: REPO }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    const dir = packageDir(next.name, next.from);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    const pkg = readJson(path.join(dir, 'package.json'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      queue.push({ name: dep, from: dir });
    }
  }
  return [...seen].sort();
}

/**
 * Where each package (name@version) lies in the archive. electron-builder lays node_modules out again (it hoists
 * what it can), so a package is found by its name and version, not by its folder in the project.
 */
let packagesInArchive: Map<string, string[]> | null = null;
function packagedPackages(): Map<string, string[]> {
  if (packagesInArchive) return packagesInArchive;
  const where = new Map<string, string[]>();
  for (const rel of packed.keys()) {
    const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/@]+))\/package\.json$/.exec(rel);
    if (!m) continue;
    const pkg = JSON.parse(read(rel)) as { name?: string; version?: string };
    if (pkg.name !== m[2]) continue;
    const key = `${pkg.name}@${pkg.version}`;
    where.set(key, [...(where.get(key) ?? []), m[1]!]);
  }
  packagesInArchive = where;
  return where;
}

/** A project package folder's name@version. */
function packageKey(dir: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name}@${pkg.version}`;
}

/** The archive folders of the project's package folder `dir` (none: not packaged). */
function packagedAt(dir: string): string[] {
  return packagedPackages().get(packageKey(dir)) ?? [];
}

/** Files of a package folder, without its own nested node_modules (packages of their own). */
function packageFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') visit(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/**
 * Whether a file is machine code that the system loads (a .node addon, a shared library, a program): ELF or Mach-O
 * other than an object file of a build, a fat Mach-O, or PE. (A `.o` left by node-gyp is not loaded, nor shipped.)
 */
function isNativeBinary(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const n = fs.readSync(fd, head, 0, 20, 0);
    if (n >= 2 && head.toString('latin1', 0, 2) === 'MZ') return true; // PE: .dll, .exe, a Windows .node
    if (n < 20) return false;
    const magic = head.readUInt32BE(0);
    if (magic === 0x7f454c46) return (head[5] === 2 ? head.readUInt16BE(16) : head.readUInt16LE(16)) !== 1; // ET_REL
    if (magic === 0xcafebabe) return true; // fat Mach-O
    if (magic === 0xfeedface || magic === 0xfeedfacf) return head.readUInt32BE(12) !== 1; // MH_OBJECT
    if (magic === 0xcefaedfe || magic === 0xcffaedfe) return head.readUInt32LE(12) !== 1;
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

describe('packaging (electron-builder.yml, packaged for real with the dir target)', () => {
  beforeAll(async () => {
    const built = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
    if (!built.every((f) => fs.existsSync(path.join(REPO, f)))) {
      execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
    }
    const binding = electronSqliteBinding(path.join(REPO, 'out', 'main'), ELECTRON_VERSION);
    if (!fs.existsSync(binding)) {
      const created = fs.mkdirSync(path.dirname(binding), { recursive: true });
      fs.writeFileSync(binding, 'placeholder for the Electron build of better-sqlite3 (tests/packaging.test.ts)\n');
      placeholderBinding = created ?? binding;
    }
    const electronDist = path.join(tmp, 'electron-dist');
    fs.mkdirSync(electronDist);
    fs.writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(path.join(electronDist, 'version'), `v${ELECTRON_VERSION}`);
    await build({
      projectDir: REPO,
      targets: Platform.LINUX.createTarget('dir', Arch.x64),
      publish: 'never',
      // Merged over electron-builder.yml: only where the package goes and what Electron it wraps.
      config: {
        electronDist,
        electronVersion: ELECTRON_VERSION,
        npmRebuild: false,
        directories: { output: path.join(tmp, 'release') },
      },
    });
    walk(asar.getRawHeader(archive).header as AsarNode, '');
  }, 300_000);

  afterAll(() => {
    // What the placeholder needed: the file, and the folders made for it.
    if (placeholderBinding) fs.rmSync(placeholderBinding, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("ships package.json's main, the preload and the renderer with its assets", () => {
    const pkg = JSON.parse(read('package.json')) as { main: string };
    expectPacked(pkg.main, 'package.json main');
    const { preload, indexHtml } = appFiles(packagedMain);
    expectPacked(inArchive(preload), 'the preload script');
    const html = inArchive(indexHtml);
    expectPacked(html, 'the renderer');
    const assets = [...read(html).matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((a) => !/^[a-z]+:/.test(a));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expectPacked(path.posix.join(path.posix.dirname(html), asset), `named by ${html}`);
  });

  it('ships every chunk the bundles import and every worker script they start', () => {
    let workers = 0;
    for (const rel of bundles()) {
      const code = read(rel);
      for (const s of specifiers(code).filter((x) => x.startsWith('.'))) {
        expectPacked(path.posix.join(path.posix.dirname(rel), s), `imported by ${rel}`);
      }
      const calls =
        code.split(/\bspawnWorker\$?\d*\(/).length - 1 - (code.match(/function spawnWorker\$?\d*\(/g) ?? []).length;
      const named = [...code.matchAll(/\bspawnWorker\$?\d*\(\s*"([^"]+)"/g)].map((m) => m[1]!);
      expect(named.length, `a spawnWorker call of ${rel} does not name its script`).toBe(calls);
      for (const name of named) {
        // As src/core/threads.ts looks for it: beside the calling module or one folder up.
        const candidates = [`./${name}.js`, `../${name}.js`].map((c) => path.posix.join(path.posix.dirname(rel), c));
        expect(
          candidates.some((c) => packed.has(c)),
          `worker ${name} (started by ${rel}) is not packaged`,
        ).toBe(true);
        workers++;
      }
    }
    expect(workers).toBeGreaterThan(0);
  });

  it('ships each npm package the bundles load, a production dependency, with what it depends on', () => {
    const project = readJson(path.join(REPO, 'package.json'));
    const production = { ...project.dependencies, ...project.optionalDependencies };
    const loaded = loadedPackages();
    expect(loaded.length).toBeGreaterThan(0);
    for (const name of loaded) {
      expect(name in production, `${name} is loaded at run time but is not a dependency (not packaged)`).toBe(true);
      const dir = packageDir(name, REPO);
      if (!dir && name in (project.optionalDependencies ?? {})) continue; // not installed: the code falls back
      expect(dir, `${name} is not installed`).not.toBeNull();
      const main = createRequire(path.join(REPO, 'out', 'main', 'index.js')).resolve(name);
      const inPackage = path.relative(fs.realpathSync(dir!), fs.realpathSync(main)).split(path.sep).join('/');
      const at = packagedAt(dir!);
      expect(at, `${name} is not packaged`).not.toEqual([]);
      for (const folder of at) expectPacked(`${folder}/${inPackage}`, `the entry of ${name}`);
    }
    for (const dir of dependencyClosure(loaded)) {
      expect(packagedAt(dir), `${packageKey(dir)} (${path.relative(REPO, dir)}) is not packaged`).not.toEqual([]);
    }
  });

  it('unpacks every native binary and wasm file of those packages', () => {
    let natives = 0;
    let wasm = 0;
    for (const dir of dependencyClosure(loadedPackages())) {
      const at = packagedAt(dir);
      expect(at, `${packageKey(dir)} is not packaged`).not.toEqual([]);
      for (const file of packageFiles(dir)) {
        if (file.endsWith('.map')) continue;
        const kind = file.endsWith('.wasm') ? 'WebAssembly' : isNativeBinary(file) ? 'native code' : null;
        if (!kind) continue;
        const inPackage = path.relative(dir, file).split(path.sep).join('/');
        // node-gyp's intermediates (the addon before its copy to build/Release): never loaded, never shipped.
        if (/(^|\/)build\/Release\/(obj\.target|\.deps)\//.test(inPackage)) continue;
        // Windows programs and libraries: electron-builder leaves them out of Linux and macOS packages.
        if (/\.(exe|dll)$/i.test(inPackage)) continue;
        for (const folder of at) expectUnpacked(`${folder}/${inPackage}`, kind);
        if (kind === 'WebAssembly') wasm++;
        else natives++;
      }
    }
    // better-sqlite3, sharp's addon and libvips, usearch; tfjs's wasm backend.
    expect(natives).toBeGreaterThanOrEqual(4);
    expect(wasm).toBeGreaterThanOrEqual(3);
  });

  it('unpacks each file of a package that the bundles name by its path (a .wasm, .node or data file)', () => {
    // Such as "@jsquash/jxl/codec/dec/jxl_dec.wasm", resolved with require.resolve and read with fs.
    const named = new Set<string>();
    for (const rel of bundles()) {
      for (const m of read(rel).matchAll(/["']((?:@[\w.-]+\/)?[\w.-]+\/[^"'\s]+\.(?:wasm|node|bin|json|dat))["']/g)) {
        if (!m[1]!.startsWith('.') && !m[1]!.startsWith('node:')) named.add(m[1]!);
      }
    }
    for (const specifier of named) {
      const dir = packageDir(packageName(specifier), REPO);
      if (!dir) continue; // not a package's file (a name that only looks like one)
      const inPackage = specifier.slice(packageName(specifier).length + 1);
      if (!fs.existsSync(path.join(dir, inPackage))) continue;
      for (const folder of packagedAt(dir)) expectUnpacked(`${folder}/${inPackage}`, `named in the bundles`);
    }
  });

  it('unpacks the models where the packaged app reads them, and the Electron build of better-sqlite3', () => {
    // findProjectRoot (src/core/paths.ts) finds models/ beside package.json: app.asar; main reads it unpacked.
    const models = path.join(REPO, 'models');
    const files = packageFiles(models);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files)
      expectUnpacked(`models/${path.relative(models, file).split(path.sep).join('/')}`, 'a model');
    expect(fs.existsSync(path.join(unpackedPath(path.join(archive, 'models')), 'models.json'))).toBe(true);
    const binding = electronSqliteBinding(packagedMain, ELECTRON_VERSION);
    expectUnpacked(inArchive(binding), 'better-sqlite3 for Electron');
    expect(fs.existsSync(unpackedPath(binding))).toBe(true);
  });

  it('ships nothing else: no sources, tests, benches, scratch files, source maps or sample data', () => {
    const top = new Set([...packed.keys()].map((rel) => rel.split('/')[0]));
    expect([...top].sort()).toEqual(['models', 'node_modules', 'out', 'package.json']);
    const outDirs = new Set([...packed.keys()].filter((r) => r.startsWith('out/')).map((r) => r.split('/')[1]));
    expect([...outDirs].sort()).toEqual(['main', 'native', 'preload', 'renderer']);
    const strays = [...packed.keys()].filter(
      (rel) =>
        rel.endsWith('.map') ||
        /(^|\/)(tests|bench|\.scratch|\.train|src\/(core|cli|main|server|renderer))\//.test(rel),
    );
    expect(strays.filter((rel) => !rel.startsWith('node_modules/') || rel.endsWith('.map'))).toEqual([]);
    // No photo of ../shared/data: compared by size, then by the SHA-256 the archive's header keeps for each file.
    const bySize = new Map<number, Set<string>>();
    for (const node of packed.values()) {
      if (node.size === undefined || !node.integrity) continue;
      bySize.set(node.size, (bySize.get(node.size) ?? new Set()).add(node.integrity.hash));
    }
    const shipped: string[] = [];
    const visit = (d: string): void => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, entry.name);
        if (entry.isDirectory()) visit(p);
        else if (entry.isFile()) {
          const hashes = bySize.get(fs.statSync(p).size);
          if (hashes?.has(crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'))) shipped.push(p);
        }
      }
    };
    if (fs.existsSync(DATA)) visit(DATA);
    expect(shipped).toEqual([]);
    const photos = [...packed.keys()].filter((rel) => IMAGE_EXTENSIONS.has(path.posix.extname(rel).toLowerCase()));
    expect(photos.filter((rel) => !rel.startsWith('node_modules/') && !rel.startsWith('out/renderer/'))).toEqual([]);
  });
});
