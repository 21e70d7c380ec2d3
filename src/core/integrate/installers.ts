// The file-manager entries the installers carry (Windows: an NSIS include, macOS: a Quick Action), as files under
// out/installer that `npm run dist` writes (scripts/installer-files.ts) and electron-builder.yml names.
import { IMAGE_EXTENSIONS } from '../library/scan.js';
import { ACTION_NAME } from './linux.js';
import { macWorkflowFiles, WORKFLOW_NAME } from './macos.js';
import { nsisInclude } from './windows.js';

/** Relative to the project root. */
export const INSTALLER_DIR = 'out/installer';
/** electron-builder.yml's nsis.include. */
export const NSIS_INCLUDE = `${INSTALLER_DIR}/windows/find-similar.nsh`;
/** electron-builder.yml's mac.extraResources `from`: copied into Doppel.app/Contents/Resources. */
export const MAC_RESOURCES = `${INSTALLER_DIR}/macos`;

export interface InstallerFile {
  /** Relative to the project root, with forward slashes. */
  path: string;
  content: string;
}

export function installerFiles(): InstallerFile[] {
  return [
    { path: NSIS_INCLUDE, content: nsisInclude() },
    ...macWorkflowFiles().map((f) => ({ path: `${MAC_RESOURCES}/${f.path}`, content: f.content })),
  ];
}

/**
 * What `doppel integrate status` (and the app's Settings) says where it installs nothing itself: what the platform's
 * installer provides. `who` is what installs nothing there. Null on Linux (doppel integrate and the app install the
 * entries there).
 */
export function installerNote(platform: NodeJS.Platform, who = 'doppel integrate'): string | null {
  const types = [...IMAGE_EXTENSIONS].join(' ');
  if (platform === 'win32') {
    return (
      `on Windows the Doppel installer adds "${ACTION_NAME}" to Explorer's menu for ${types} ` +
      `(for the user, or for all users in a per-machine install) and its uninstaller removes it; ` +
      `${who} installs nothing here`
    );
  }
  if (platform === 'darwin') {
    return (
      `on macOS the Quick Action "${ACTION_NAME}" (for ${types}) ships in Doppel.app/Contents/Resources/` +
      `${WORKFLOW_NAME}: open it to install it in ~/Library/Services (remove it there, or in System Settings, ` +
      `Keyboard, Keyboard Shortcuts, Services); ${who} installs nothing here`
    );
  }
  if (platform === 'linux') return null;
  return `${who} installs file-manager entries on Linux only (this is ${platform})`;
}
