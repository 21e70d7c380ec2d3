// The desktop app's Trasher: Electron's shell.trashItem moves the file (the system's own trash on every
// platform). Where the trash can be read back (the freedesktop trash of Linux and the BSDs) the move is found
// there and undo puts the file back; elsewhere undo is unavailable and says why.
import fs from 'node:fs';
import path from 'node:path';
import {
  exists,
  FreedesktopTrasher,
  systemTrasher,
  type TrashEntry,
  type TrashRecord,
  type Trasher,
} from '../core/duplicates/trash.js';
import { DoppelError } from '../shared/api.js';

/** The part of Electron's shell that the trasher uses. */
export interface TrashShell {
  trashItem(fullPath: string): Promise<void>;
}

export class ElectronTrasher implements Trasher {
  readonly name = 'electron';
  readonly restoreUnsupported: string | null;
  private readonly freedesktop: FreedesktopTrasher | null;

  constructor(
    private readonly shell: TrashShell,
    platform: NodeJS.Platform = process.platform,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const readable = platform !== 'darwin' && platform !== 'win32';
    this.freedesktop = readable ? new FreedesktopTrasher(env) : null;
    this.restoreUnsupported = readable ? null : systemTrasher(platform).restoreUnsupported;
  }

  async trash(file: string): Promise<TrashRecord> {
    if (!path.isAbsolute(file)) throw new DoppelError('invalid-argument', `Not an absolute path: ${file}`);
    const stat = await fs.promises.lstat(file).catch(() => null);
    if (!stat) throw new DoppelError('not-found', `Cannot move ${file} to the trash: it is gone`);
    if (!stat.isFile() && !stat.isSymbolicLink()) {
      throw new DoppelError('invalid-argument', `Cannot move ${file} to the trash: not a file`);
    }
    const move = async (f: string): Promise<void> => {
      try {
        await this.shell.trashItem(f);
      } catch (err) {
        throw new DoppelError('io', `Cannot move ${f} to the trash: ${(err as Error).message}`, { cause: err });
      }
    };
    if (this.freedesktop) return this.freedesktop.trashWith(file, move);
    await move(file);
    if (await exists(file)) throw new DoppelError('io', `${file} is still in its place after moving it to the trash`);
    return { originalPath: file, trashPath: null, infoPath: null, deletedAt: null };
  }

  async entriesFor(file: string, sinceMs: number): Promise<TrashEntry[]> {
    return this.freedesktop ? this.freedesktop.entriesFor(file, sinceMs) : [];
  }

  async restore(record: TrashRecord): Promise<void> {
    if (!this.freedesktop) throw new DoppelError('unsupported', `${this.restoreUnsupported} (${record.originalPath})`);
    await this.freedesktop.restore(record);
  }
}
