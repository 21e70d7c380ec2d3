// Desktop-only actions the window may ask for besides the DoppelApi: show a library photo in its folder, open it,
// pick a folder to add, and "Find similar photos" in the file managers' menus (status, install, remove: Settings'
// switch; src/core/integrate/integration.ts). Same rules as every IPC handler: sender check, validated arguments,
// answers as data.
// Free of runtime electron imports so it runs under plain Node in tests.
import { z } from 'zod';
import { failure, toErrorData } from '../core/api-schema.js';
import {
  installIntegration,
  integrationStatus,
  removeIntegration,
  type IntegrationHost,
} from '../core/integrate/integration.js';
import { resolveOriginal, type MediaLibrary } from '../core/media.js';
import { DoppelError } from '../shared/api.js';
import { INTEGRATION_CHANNELS, PICK_FOLDER_CHANNEL, SHELL_CHANNELS, type IpcResult } from '../shared/ipc.js';
import { refuseSender, type IpcMainLike, type SenderCheck } from './ipc.js';

/** The part of Electron's shell that these handlers use. */
export interface ShellLike {
  showItemInFolder(fullPath: string): void;
  /** Resolves to an error message, or '' on success. */
  openPath(fullPath: string): Promise<string>;
}

export interface DesktopDeps {
  media: MediaLibrary;
  shell: ShellLike;
  /** Shows the system's folder picker; null when cancelled. */
  pickFolder(): Promise<string | null>;
  /** The platform, the XDG folders and what the entries run (the app itself when packaged: integration.ts). */
  integration: IntegrationHost;
}

const photoId = z.tuple([z.number().int().positive()]);

function originalOf(media: MediaLibrary, id: number): string {
  const file = resolveOriginal(media, id);
  if (!file) throw new DoppelError('not-found', `Photo ${id} is not a readable photo of the library`);
  return file.path;
}

export function registerDesktopIpc(ipcMain: IpcMainLike, deps: DesktopDeps, isTrustedSender: SenderCheck): void {
  function handle(channel: string, args: z.ZodType<unknown[]>, run: (args: unknown[]) => Promise<unknown>): void {
    ipcMain.handle(channel, async (event, ...raw): Promise<IpcResult<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) return refuseSender(channel, event);
      const parsed = args.safeParse(raw);
      if (!parsed.success) return failure({ kind: 'invalid-argument', message: `${channel}: invalid arguments` });
      try {
        return { ok: true, value: await run(parsed.data) };
      } catch (err) {
        return failure(toErrorData(channel, err));
      }
    });
  }

  handle(SHELL_CHANNELS.showInFolder, photoId, async ([id]) => {
    deps.shell.showItemInFolder(originalOf(deps.media, id as number));
    return null;
  });
  handle(SHELL_CHANNELS.open, photoId, async ([id]) => {
    const problem = await deps.shell.openPath(originalOf(deps.media, id as number));
    if (problem) throw new DoppelError('io', problem);
    return null;
  });
  handle(PICK_FOLDER_CHANNEL, z.tuple([]), () => deps.pickFolder());
  handle(INTEGRATION_CHANNELS.status, z.tuple([]), async () => integrationStatus(deps.integration));
  handle(INTEGRATION_CHANNELS.install, z.tuple([]), async () => installIntegration(deps.integration));
  handle(INTEGRATION_CHANNELS.remove, z.tuple([]), async () => removeIntegration(deps.integration));
}
