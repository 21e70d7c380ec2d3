// The file-manager integration as the desktop app's Settings shows and changes it: where it stands, install and
// remove, as data (src/shared/ipc.ts). On Linux the app installs and removes the entries of linux.ts itself, with
// install.ts, as `doppel integrate` does; on Windows and macOS the installer carries them (installers.ts), so status
// says so and install and remove are refused with that note.
import { DoppelError } from '../../shared/api.js';
import type { IntegrationOutcome, IntegrationStatus } from '../../shared/ipc.js';
import { install, remove, status, type Outcome } from './install.js';
import { installerNote } from './installers.js';
import type { XdgDirs } from './linux.js';
import { displayCommand } from './quote.js';
import type { Target } from './target.js';

export interface IntegrationHost {
  platform: NodeJS.Platform;
  /** The XDG folders the entries go under (read when asked, so the environment in force counts). */
  dirs(): XdgDirs;
  /** What the entries run, before the files. */
  target(): Target;
  /** Who installs nothing where the installer carries the entries, for the note ("the app"). */
  who: string;
}

/** Where the integration stands on `host`'s platform. */
export function integrationStatus(host: IntegrationHost): IntegrationStatus {
  const note = installerNote(host.platform, host.who);
  if (note !== null) {
    const by = host.platform === 'win32' || host.platform === 'darwin' ? 'installer' : null;
    return { by, installed: false, command: null, what: null, entries: [], note };
  }
  const target = host.target();
  const s = status(host.dirs(), target);
  return {
    by: 'app',
    installed: s.installed,
    command: displayCommand(s.command ?? target.command),
    what: s.what ?? target.what,
    entries: s.entries,
    note: null,
  };
}

/** Refuses, with the installer's note, where the app installs nothing. */
function onLinux(host: IntegrationHost): void {
  const note = installerNote(host.platform, host.who);
  if (note !== null) throw new DoppelError('unsupported', note.charAt(0).toUpperCase() + note.slice(1));
}

function outcome(host: IntegrationHost, done: Outcome): IntegrationOutcome {
  return { status: integrationStatus(host), done: done.done, warnings: done.warnings };
}

/** Installs the entries for this user, running `host.target()`; refused off Linux. */
export function installIntegration(host: IntegrationHost): IntegrationOutcome {
  onLinux(host);
  return outcome(host, install(host.dirs(), host.target()));
}

/** Removes what install wrote (and only that); refused off Linux. */
export function removeIntegration(host: IntegrationHost): IntegrationOutcome {
  onLinux(host);
  return outcome(host, remove(host.dirs()));
}
