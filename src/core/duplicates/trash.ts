// Moving files to the system trash, and back. Doppel never deletes a photo: it moves it to the trash with the
// maintained `trash` package and, where the trash can be read back (the freedesktop trash of Linux and the
// BSDs), records where the file went so that undo can put it back.
//
// The Electron app can plug in its own Trasher (shell.trashItem); the engine only sees this interface.
// One file though long: the freedesktop trash, putting a file back without overwriting and the one-way trasher
// share the Trasher contract and its file helpers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import { holdsBeginningOf } from '../library/fingerprint.js';

/** Where a file went. The fields beyond originalPath are null when the trash cannot tell. */
export interface TrashRecord {
  /** The absolute path the file had. */
  originalPath: string;
  /** The file inside the trash. */
  trashPath: string | null;
  /** The freedesktop `.trashinfo` file that describes it. */
  infoPath: string | null;
  /** DeletionDate as the trash wrote it (local time, no zone: the spec's format). */
  deletedAt: string | null;
}

export interface Trasher {
  /** Recorded in the action log. */
  readonly name: string;
  /** Null where restore() works; otherwise the reason undo is impossible here, for the user. */
  readonly restoreUnsupported: string | null;
  /** Moves one file to the trash, verifies it left its place and tells where it went. */
  trash(file: string): Promise<TrashRecord>;
  /** Puts a file back at its original path; refuses to overwrite anything. */
  restore(record: TrashRecord): Promise<void>;
  /**
   * The trash entries for `file` made since `sinceMs`, where the trash can be read back: what a move cut short
   * may have left (duplicates/journal.ts settles them). Absent where the trash cannot be read.
   */
  entriesFor?(file: string, sinceMs: number): Promise<TrashEntry[]>;
}

/** A freedesktop trash entry: its .trashinfo file and the file it describes (null: the info has no file). */
export interface TrashEntry {
  infoPath: string;
  trashPath: string | null;
  deletedAt: string | null;
  /** When it was made (ms): its DeletionDate, else (a .trashinfo cut short) the info file's mtime. */
  madeAt: number | null;
}

/** A DeletionDate (local time, whole seconds, no zone) in ms, or null when it does not parse. */
export function deletionTime(date: string | null): number | null {
  const m = date?.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, sec).getTime();
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** Whether anything (a file, a link, a folder) is at `file`, the link itself not followed; other errors throw. */
export async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.lstat(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/** Checks that `file` is something Doppel may move: a plain file or a symbolic link, not a folder. */
async function checkMovable(file: string): Promise<void> {
  if (!path.isAbsolute(file)) throw new DoppelError('invalid-argument', `Not an absolute path: ${file}`);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.lstat(file);
  } catch (err) {
    throw new DoppelError(
      errnoCode(err) === 'ENOENT' ? 'not-found' : 'io',
      `Cannot move ${file} to the trash: ${errnoCode(err) ?? String(err)}`,
    );
  }
  if (!stat.isFile() && !stat.isSymbolicLink()) {
    throw new DoppelError('invalid-argument', `Cannot move ${file} to the trash: not a file`);
  }
}

/** Moves with the `trash` package (globbing off: a photo named `[1].jpg` is a name, not a pattern). */
async function movePackage(file: string): Promise<void> {
  try {
    // Loaded on first use: most runs never trash anything, and the package takes ~0.1 s to load.
    const { default: trash } = await import('trash');
    await trash([file], { glob: false });
  } catch (err) {
    throw new DoppelError('io', `Cannot move ${file} to the trash: ${(err as Error).message}`, { cause: err });
  }
}

/** Checks, moves with the `trash` package and verifies that the file left its place. */
async function moveToTrash(file: string): Promise<void> {
  await checkMovable(file);
  await movePackage(file);
  if (await exists(file)) {
    throw new DoppelError('io', `${file} is still in its place after moving it to the trash`);
  }
}

interface TrashInfo {
  path: string;
  deletionDate: string | null;
}

/** Parses a .trashinfo file; `Path` is percent-encoded, absolute or relative to the trash's top folder. */
export function parseTrashInfo(text: string, topDir: string): TrashInfo | null {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '[Trash Info]') return null;
  let file: string | null = null;
  let deletionDate: string | null = null;
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'Path') {
      let decoded: string;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        decoded = value;
      }
      file = path.isAbsolute(decoded) ? decoded : path.join(topDir, decoded);
    } else if (key === 'DeletionDate') deletionDate = value;
  }
  return file === null ? null : { path: file, deletionDate };
}

interface TrashDir {
  /** The trash folder, holding files/ and info/. */
  dir: string;
  /** What relative Paths in its .trashinfo files are relative to. */
  topDir: string;
}

/**
 * The freedesktop.org trash (Trash specification 1.0): `$XDG_DATA_HOME/Trash` (default ~/.local/share/Trash)
 * for files on the home folder's device, `$topdir/.Trash/$uid` or `$topdir/.Trash-$uid` for other devices.
 *
 * The `trash` package does the move and writes the .trashinfo file but does not say where the file went, so
 * trash() lists the candidate info/ folders before and after the move and takes the new entry whose Path is
 * the file. Both this class and the package read HOME and XDG_DATA_HOME from the environment; the package
 * reads them once, when it first moves something, so change them (in tests) before that.
 */
export class FreedesktopTrasher implements Trasher {
  readonly name = 'freedesktop';
  readonly restoreUnsupported = null;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The home trash folder. */
  homeTrash(): string {
    const xdg = this.env.XDG_DATA_HOME;
    const dataHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
    return path.join(dataHome, 'Trash');
  }

  /** The trash folders a file could go to: the home trash and, off the home device, its device's top trashes. */
  async trashDirsFor(file: string): Promise<TrashDir[]> {
    const dirs: TrashDir[] = [{ dir: this.homeTrash(), topDir: '/' }];
    // The device of the file, or of its folder once the file has gone (looking for where a move put it).
    const [fileStat, homeStat] = await Promise.all([
      fs.promises.lstat(file).catch(() => fs.promises.stat(path.dirname(file)).catch(() => null)),
      fs.promises.stat(os.homedir()).catch(() => null),
    ]);
    if (!fileStat || (homeStat && homeStat.dev === fileStat.dev)) return dirs;
    // The top folder of the file's device: climb while the parent is on the same device.
    let top = path.dirname(file);
    for (;;) {
      const parent = path.dirname(top);
      if (parent === top) break;
      const st = await fs.promises.stat(parent).catch(() => null);
      if (!st || st.dev !== fileStat.dev) break;
      top = parent;
    }
    const uid = process.getuid?.() ?? 0;
    dirs.push(
      { dir: path.join(top, '.Trash', String(uid)), topDir: top },
      { dir: path.join(top, `.Trash-${uid}`), topDir: top },
    );
    return dirs;
  }

  trash(file: string): Promise<TrashRecord> {
    return this.trashWith(file, movePackage);
  }

  /**
   * Moves `file` to the trash with `move` (the `trash` package, or Electron's shell.trashItem) and finds where it
   * went: the new .trashinfo entry whose Path is the file.
   */
  async trashWith(file: string, move: (file: string) => Promise<void>): Promise<TrashRecord> {
    await checkMovable(file);
    const dirs = await this.trashDirsFor(file);
    const before = await Promise.all(dirs.map(async (d) => new Set(await listDir(path.join(d.dir, 'info')))));
    await move(file);
    if (await exists(file)) throw new DoppelError('io', `${file} is still in its place after moving it to the trash`);
    for (const [i, d] of dirs.entries()) {
      for (const entry of await this.entriesIn(d, file, (name) => !before[i]!.has(name))) {
        const { trashPath, infoPath, deletedAt } = entry;
        if (trashPath) return { originalPath: file, trashPath, infoPath, deletedAt };
      }
    }
    // Moved, but not to a trash folder this class knows (say, WSL's Windows Recycle Bin): no undo for it.
    return { originalPath: file, trashPath: null, infoPath: null, deletedAt: null };
  }

  async entriesFor(file: string, sinceMs: number): Promise<TrashEntry[]> {
    const out: TrashEntry[] = [];
    for (const d of await this.trashDirsFor(file)) {
      const entries = await this.entriesIn(d, file, () => true);
      // DeletionDate has whole seconds: an entry made in the second the row was written counts.
      out.push(...entries.filter((e) => (e.madeAt ?? -Infinity) >= sinceMs - 1000));
    }
    return out;
  }

  /**
   * The entries of trash folder `d` whose Path is `file`, among the .trashinfo names `wanted` keeps. A .trashinfo
   * cut short while it was written (empty, or a beginning of the one for `file`) and without a file counts too.
   */
  private async entriesIn(d: TrashDir, file: string, wanted: (name: string) => boolean): Promise<TrashEntry[]> {
    const infoDir = path.join(d.dir, 'info');
    const out: TrashEntry[] = [];
    const header = `[Trash Info]\nPath=${safeEncodeURI(file)}\n`;
    for (const name of await listDir(infoDir)) {
      if (!name.endsWith('.trashinfo') || !wanted(name)) continue;
      const infoPath = path.join(infoDir, name);
      const text = await fs.promises.readFile(infoPath, 'utf8').catch(() => null);
      if (text === null) continue;
      const info = parseTrashInfo(text, d.topDir);
      const partial = info?.path !== file && header.startsWith(text);
      if (info?.path !== file && !partial) continue;
      const trashPath = path.join(d.dir, 'files', name.slice(0, -'.trashinfo'.length));
      const hasFile = await exists(trashPath);
      if (partial && hasFile) continue;
      const deletedAt = partial ? null : (info?.deletionDate ?? null);
      const madeAt =
        deletionTime(deletedAt) ??
        (await fs.promises.lstat(infoPath).then(
          (st) => st.mtimeMs,
          () => null,
        ));
      out.push({ infoPath, trashPath: hasFile ? trashPath : null, deletedAt, madeAt });
    }
    return out;
  }

  async restore(record: TrashRecord): Promise<void> {
    const { originalPath, trashPath } = record;
    if (!trashPath) {
      throw new DoppelError(
        'unsupported',
        `Doppel does not know where the trash put ${originalPath}; restore it from the trash yourself`,
      );
    }
    if (!(await exists(trashPath))) {
      throw new DoppelError('not-found', `${originalPath} is no longer in the trash (was the trash emptied?)`);
    }
    if (await exists(originalPath)) {
      // A restore cut short (killed between the hard link and the unlink, or after the copy of the fallback)
      // left the file in both places: finish it. Anything else there is the user's and is never replaced.
      if (!(await sameFile(trashPath, originalPath))) {
        throw new RestoreConflict(`Cannot put ${originalPath} back: another file has taken its place`);
      }
      await fs.promises.unlink(trashPath);
      if (record.infoPath) await fs.promises.rm(record.infoPath, { force: true });
      return;
    }
    await fs.promises.mkdir(path.dirname(originalPath), { recursive: true });
    await moveNoClobber(trashPath, originalPath);
    if (record.infoPath) await fs.promises.rm(record.infoPath, { force: true });
  }
}

/** encodeURI as the `trash` package writes Path, or the raw name where it cannot be encoded. */
function safeEncodeURI(file: string): string {
  try {
    return encodeURI(file);
  } catch {
    return file;
  }
}

/** A file of the user's is where a trashed file would go back: undo leaves it, and the trashed file stays. */
export class RestoreConflict extends DoppelError {
  constructor(message: string) {
    super('io', message);
  }
}

/**
 * Whether `a` and `b` are the same file (one inode under two names), regular files with the same bytes (a copy
 * that was completed but whose source was not yet removed), or links with the same target (the same, for a link).
 */
async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([fs.promises.lstat(a), fs.promises.lstat(b)]);
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.isSymbolicLink() && sb.isSymbolicLink())
    return (await fs.promises.readlink(a)) === (await fs.promises.readlink(b));
  if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
  return holdsBeginningOf(a, b); // as long as b: the same bytes
}

/** Moves `from` to `to` without ever replacing a file at `to`; the bytes and mtime are kept. */
async function moveNoClobber(from: string, to: string): Promise<void> {
  try {
    // A hard link fails with EEXIST instead of replacing; then the trash's name is dropped.
    await fs.promises.link(from, to);
    await fs.promises.unlink(from);
    return;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') {
      throw new RestoreConflict(`Cannot put ${to} back: another file has taken its place`);
    }
    // Another device (EXDEV) or a file system without hard links: copy exclusively, then remove.
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') {
      throw new DoppelError('io', `Cannot put ${to} back: ${code ?? String(err)}`, { cause: err });
    }
  }
  if ((await fs.promises.lstat(from)).isSymbolicLink()) {
    // A link (of a folder that follows links) is made again, never copied through: symlink() fails with EEXIST
    // instead of replacing, and a link is made whole or not at all.
    try {
      await fs.promises.symlink(await fs.promises.readlink(from), to);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST')
        throw new RestoreConflict(`Cannot put ${to} back: another file has taken its place`);
      throw new DoppelError('io', `Cannot put ${to} back: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
    await fs.promises.unlink(from);
    return;
  }
  // The copy is made under a name of its own and only then given the photo's name, so that a restore cut short
  // never leaves half a photo where the photo belongs; the next undo starts the copy again.
  const tmp = restoreTempPath(to);
  await fs.promises.rm(tmp, { force: true });
  const stat = await fs.promises.stat(from);
  await fs.promises.copyFile(from, tmp, fs.constants.COPYFILE_EXCL);
  await fs.promises.utimes(tmp, stat.atime, stat.mtime);
  try {
    await fs.promises.link(tmp, to);
    await fs.promises.unlink(tmp);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') {
      await fs.promises.rm(tmp, { force: true });
      throw new RestoreConflict(`Cannot put ${to} back: another file has taken its place`);
    }
    // No hard links on this file system: rename, which replaces, after checking that nothing is there.
    if (await exists(to)) {
      await fs.promises.rm(tmp, { force: true });
      throw new RestoreConflict(`Cannot put ${to} back: another file has taken its place`);
    }
    await fs.promises.rename(tmp, to);
  }
  await fs.promises.unlink(from);
}

/** Where a restore across devices copies a file before it takes its name. */
export function restoreTempPath(to: string): string {
  return path.join(path.dirname(to), `.${path.basename(to)}.doppel-restore`);
}

/** Trashes with the `trash` package where the trash cannot be read back (macOS, Windows): no undo. */
export class OneWayTrasher implements Trasher {
  readonly name = 'system';
  constructor(readonly restoreUnsupported: string) {}

  async trash(file: string): Promise<TrashRecord> {
    await moveToTrash(file);
    return { originalPath: file, trashPath: null, infoPath: null, deletedAt: null };
  }

  async restore(record: TrashRecord): Promise<void> {
    throw new DoppelError('unsupported', `${this.restoreUnsupported} (${record.originalPath})`);
  }
}

/** The trash of this platform. */
export function systemTrasher(platform: NodeJS.Platform = process.platform): Trasher {
  if (platform === 'darwin') {
    return new OneWayTrasher(
      'Undo is not available on macOS: Doppel cannot read the Trash back. Use "Put Back" in the Finder Trash',
    );
  }
  if (platform === 'win32') {
    return new OneWayTrasher(
      'Undo is not available on Windows: Doppel cannot read the Recycle Bin back. Use "Restore" in the Recycle Bin',
    );
  }
  return new FreedesktopTrasher();
}
