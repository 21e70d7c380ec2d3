// Where the Electron main process finds the files it loads by path, from the sources' out/ (npm start) and from a
// packaged app (electron-builder.yml). No electron import: tests/packaging.test.ts checks a real package against
// these same functions.
import path from 'node:path';

/** The files the main process hands to Electron by path, beside its own bundle (out/main). */
export function appFiles(mainDir: string): { preload: string; indexHtml: string } {
  return {
    preload: path.join(mainDir, '../preload/index.cjs'),
    indexHtml: path.join(mainDir, '../renderer/index.html'),
  };
}

/**
 * The Electron-ABI build of better-sqlite3 that scripts/electron-native.mjs makes (npm start, npm run dist):
 * out/native/electron-<version>/better_sqlite3.node. node_modules keeps Node's own build for the CLI and the tests.
 */
export function electronSqliteBinding(mainDir: string, electronVersion: string): string {
  return path.join(mainDir, '../native', `electron-${electronVersion}`, 'better_sqlite3.node');
}

/**
 * A path inside app.asar, where electron-builder unpacked it (asarUnpack in electron-builder.yml): the same path in
 * app.asar.unpacked. Native code (dlopen of better-sqlite3, the shared libraries sharp's addon links) reads real
 * files only. Paths outside an archive are returned as they are.
 */
export function unpackedPath(file: string): string {
  return file.replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
}
