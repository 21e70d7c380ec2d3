// Install, remove and status on Linux, for `doppel integrate` and the desktop app's Settings (integration.ts).
// Install writes the files of linux.ts and adds Doppel's action to Thunar's uca.xml, then a manifest
// ($XDG_DATA_HOME/doppel/integration.json) of what it wrote: each file with its SHA-256, the folders it had to
// create, and whether it created uca.xml. Remove deletes exactly that (a file changed since is left, and said so),
// takes Doppel's action out of uca.xml and removes the folders it created once they are empty. Install again gives
// the same files and manifest. A file that is not Doppel's is never replaced, and an uca.xml that cannot be parsed
// is left as it is.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { linuxIntegration, manifestPath, THUNAR_UNIQUE_ID, type XdgDirs } from './linux.js';
import type { Target } from './target.js';
import { actionsWithId, EMPTY_UCA, parseUca, withAction, withoutAction } from './thunar.js';

export interface Manifest {
  version: 1;
  /** What the entries run, before the files. */
  command: string[];
  what: string;
  files: { for: string; path: string; sha256: string }[];
  /** Folders install created (removed by remove once empty). */
  dirs: string[];
  thunar: { path: string; uniqueId: string; createdFile: boolean } | null;
}

export interface Outcome {
  /** What was done, one line each. */
  done: string[];
  /** What was not done, and why. */
  warnings: string[];
}

const sha256 = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The text of a UTF-8 file, byte for byte (a BOM kept); null when it is not valid UTF-8. */
function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

export function readManifest(dirs: XdgDirs): Manifest | null {
  const bytes = readIfExists(manifestPath(dirs));
  if (!bytes) return null;
  try {
    const m = JSON.parse(bytes.toString('utf8')) as Manifest;
    if (m.version !== 1 || !Array.isArray(m.files) || !Array.isArray(m.dirs) || !Array.isArray(m.command)) return null;
    return m;
  } catch {
    return null;
  }
}

/** Writes through a temporary file in the same folder and a rename: a reader sees the old file or the new one. */
function writeAtomically(file: string, content: string | Buffer, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.doppel-${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, content, { mode });
    fs.chmodSync(tmp, mode); // whatever the umask
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** mkdir -p that records each folder it created in `created`. */
function ensureDir(dir: string, created: Set<string>): void {
  if (fs.existsSync(dir)) return;
  ensureDir(path.dirname(dir), created);
  fs.mkdirSync(dir);
  created.add(dir);
}

/** Refreshes the applications folder's mimeinfo.cache, where one exists (GLib reads MIME types from it then). */
function refreshMimeCache(dirs: XdgDirs, outcome: Outcome): void {
  const applications = path.join(dirs.data, 'applications');
  if (!fs.existsSync(path.join(applications, 'mimeinfo.cache'))) return;
  const r = spawnSync('update-desktop-database', [applications], { encoding: 'utf8' });
  if (r.status === 0) outcome.done.push(`refreshed ${path.join(applications, 'mimeinfo.cache')}`);
  else
    outcome.warnings.push(
      `could not refresh ${path.join(applications, 'mimeinfo.cache')} (update-desktop-database: ${r.error?.message ?? r.stderr.trim()})`,
    );
}

export function install(dirs: XdgDirs, target: Target): Outcome {
  const outcome: Outcome = { done: [], warnings: [] };
  const old = readManifest(dirs);
  const generated = linuxIntegration(dirs, target.command);
  const created = new Set((old?.dirs ?? []).filter((d) => fs.existsSync(d)));
  const ours = new Map((old?.files ?? []).map((f) => [f.path, f.sha256]));
  const files: Manifest['files'] = [];

  for (const file of generated.files) {
    const existing = readIfExists(file.path);
    const hash = sha256(file.content);
    if (existing && sha256(existing) !== hash && ours.get(file.path) !== sha256(existing)) {
      outcome.warnings.push(`${file.path} exists and is not the one Doppel wrote: left as it is (${file.for})`);
      continue;
    }
    ensureDir(path.dirname(file.path), created);
    writeAtomically(file.path, file.content, file.mode);
    files.push({ for: file.for, path: file.path, sha256: hash });
    outcome.done.push(`${file.for}: ${file.path}`);
  }
  // Files an earlier install wrote that this one does not (another version of Doppel).
  for (const stale of old?.files ?? []) {
    if (files.some((f) => f.path === stale.path)) continue;
    removeFile(stale, outcome);
  }

  const thunar = installThunar(dirs, generated.thunar, old, created, outcome);
  const manifestFile = manifestPath(dirs);
  ensureDir(path.dirname(manifestFile), created);
  const manifest: Manifest = {
    version: 1,
    command: target.command,
    what: target.what,
    files,
    dirs: [...created].sort(),
    thunar,
  };
  writeAtomically(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  refreshMimeCache(dirs, outcome);
  return outcome;
}

function installThunar(
  dirs: XdgDirs,
  thunar: ReturnType<typeof linuxIntegration>['thunar'],
  old: Manifest | null,
  created: Set<string>,
  outcome: Outcome,
): Manifest['thunar'] {
  const bytes = readIfExists(thunar.path);
  const record = (createdFile: boolean): Manifest['thunar'] => ({
    path: thunar.path,
    uniqueId: THUNAR_UNIQUE_ID,
    createdFile,
  });
  if (!bytes) {
    ensureDir(path.dirname(thunar.path), created);
    writeAtomically(thunar.path, withAction(EMPTY_UCA, THUNAR_UNIQUE_ID, thunar.xml), 0o644);
    outcome.done.push(`Thunar: ${thunar.path} (created, with Doppel's action)`);
    return record(true);
  }
  const text = utf8(bytes);
  let updated: string;
  try {
    if (text === null) throw new Error('it is not UTF-8 text');
    updated = withAction(text, THUNAR_UNIQUE_ID, thunar.xml);
  } catch (err) {
    outcome.warnings.push(
      `Thunar: ${thunar.path} could not be parsed (${(err as Error).message}): left as it is, Doppel's action not added`,
    );
    return old?.thunar ?? null;
  }
  if (updated !== text) writeAtomically(thunar.path, updated, fs.statSync(thunar.path).mode & 0o7777);
  outcome.done.push(`Thunar: Doppel's action in ${thunar.path} (unique-id ${THUNAR_UNIQUE_ID}; the others kept)`);
  return record(old?.thunar?.createdFile ?? false);
}

function removeFile(file: Manifest['files'][number], outcome: Outcome): void {
  const bytes = readIfExists(file.path);
  if (!bytes) return;
  if (sha256(bytes) !== file.sha256) {
    outcome.warnings.push(`${file.path} was changed since Doppel wrote it: left as it is`);
    return;
  }
  fs.unlinkSync(file.path);
  outcome.done.push(`removed ${file.path}`);
}

export function remove(dirs: XdgDirs): Outcome {
  const outcome: Outcome = { done: [], warnings: [] };
  const manifest = readManifest(dirs);
  if (!manifest) {
    outcome.done.push(`nothing to remove: no integration installed (${manifestPath(dirs)} is absent)`);
    return outcome;
  }
  for (const file of manifest.files) removeFile(file, outcome);
  if (manifest.thunar) removeThunar(manifest.thunar, outcome);
  fs.rmSync(manifestPath(dirs), { force: true });
  // Deepest first; a folder that holds anything else stays.
  for (const dir of [...manifest.dirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty (the user's files), or gone already
    }
  }
  refreshMimeCache(dirs, outcome);
  return outcome;
}

function removeThunar(thunar: NonNullable<Manifest['thunar']>, outcome: Outcome): void {
  const bytes = readIfExists(thunar.path);
  if (!bytes) return;
  const text = utf8(bytes);
  let updated: string;
  try {
    if (text === null) throw new Error('it is not UTF-8 text');
    updated = withoutAction(text, thunar.uniqueId);
  } catch (err) {
    outcome.warnings.push(
      `Thunar: ${thunar.path} could not be parsed (${(err as Error).message}): left as it is, Doppel's action may still be in it`,
    );
    return;
  }
  if (thunar.createdFile && updated === EMPTY_UCA) {
    fs.unlinkSync(thunar.path);
    outcome.done.push(`removed ${thunar.path} (Doppel had created it)`);
  } else if (updated !== text) {
    writeAtomically(thunar.path, updated, fs.statSync(thunar.path).mode & 0o7777);
    outcome.done.push(`Thunar: Doppel's action taken out of ${thunar.path} (the others kept)`);
  }
}

export interface Status {
  installed: boolean;
  manifest: string;
  command: string[] | null;
  what: string | null;
  entries: { for: string; path: string; state: 'installed' | 'changed' | 'missing' | 'not installed' }[];
}

/** What is installed where; without a manifest, where install would write. */
export function status(dirs: XdgDirs, target: Target): Status {
  const manifest = readManifest(dirs);
  const generated = linuxIntegration(dirs, manifest?.command ?? target.command);
  const entries: Status['entries'] = generated.files.map((file) => {
    const recorded = manifest?.files.find((f) => f.path === file.path);
    const bytes = readIfExists(file.path);
    const state = !recorded
      ? 'not installed'
      : !bytes
        ? 'missing'
        : sha256(bytes) === recorded.sha256
          ? 'installed'
          : 'changed';
    return { for: file.for, path: file.path, state };
  });
  let thunarState: Status['entries'][number]['state'] = 'not installed';
  const uca = readIfExists(generated.thunar.path);
  if (uca) {
    try {
      const found = actionsWithId(parseUca(utf8(uca) ?? ''), THUNAR_UNIQUE_ID).length > 0;
      thunarState = found ? 'installed' : manifest?.thunar ? 'missing' : 'not installed';
    } catch {
      thunarState = manifest?.thunar ? 'changed' : 'not installed';
    }
  } else if (manifest?.thunar) thunarState = 'missing';
  entries.push({ for: 'Thunar', path: generated.thunar.path, state: thunarState });
  return {
    installed: manifest !== null,
    manifest: manifestPath(dirs),
    command: manifest?.command ?? null,
    what: manifest?.what ?? null,
    entries,
  };
}
