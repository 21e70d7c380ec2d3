// Which folders may be library folders: a user's photo folders, not the whole disk, the system's own folders or
// pseudo-filesystems (/proc, /sys, /dev: files there are not photos, and some never answer a read). Checked on the
// real path (links resolved) when a folder is added, by every door: the app, the bridge's API and the CLI.
import path from 'node:path';

/** System folders of Linux, macOS and Windows, compared by real path (a folder inside one is refused too). */
const SYSTEM_FOLDERS: readonly string[] = [
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/boot',
  '/etc',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/lib32',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/include',
  '/var/lib',
  '/var/log',
  '/var/cache',
  '/var/run',
  '/var/spool',
  '/System',
  '/private/etc',
  '/private/var/db',
  'C:\\Windows',
  'C:\\Program Files',
  'C:\\Program Files (x86)',
  'C:\\ProgramData',
];

const inside = (child: string, parent: string, sep: string): boolean => {
  const c = child.toLowerCase();
  const p = parent.toLowerCase();
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep);
};

/** Why `real` (an absolute, resolved folder path) cannot be a library folder, or null when it can. */
export function folderProblem(real: string, platform: NodeJS.Platform = process.platform): string | null {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const root = p.parse(real).root;
  if (p.normalize(real) === root) return `${real} is the root of the disk: add the folders that hold your photos`;
  for (const system of SYSTEM_FOLDERS) {
    const windows = /^[A-Z]:\\/i.test(system);
    if (windows !== (platform === 'win32')) continue;
    if (inside(p.normalize(real), system, p.sep))
      return `${real} is a system folder (${system}), not a photo folder: add the folders that hold your photos`;
  }
  return null;
}
