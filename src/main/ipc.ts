// One ipcMain handler per DoppelApi member. Each handler checks who is calling, validates its arguments with the
// member's zod schema (src/core/api-schema.ts, shared with the loopback bridge) and answers with data (IpcResult):
// a rejected invoke would lose the error's kind on the way.
// Deliberately free of runtime electron imports so it runs under plain Node in tests.
import { dispatch, failure } from '../core/api-schema.js';
import { API_MEMBERS, type DoppelApi } from '../shared/api.js';
import { channelFor, type ApiMember, type IpcResult } from '../shared/ipc.js';

/** The part of Electron's WebFrameMain that the sender check needs. */
export interface SenderFrame {
  readonly url: string;
}

/** The part of Electron's IpcMainInvokeEvent that the handlers use. */
export interface InvokeEvent {
  readonly senderFrame: SenderFrame | null;
}

/** The part of Electron's ipcMain that registerIpc uses; the real ipcMain satisfies it. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<IpcResult<unknown>>): void;
}

export type SenderCheck = (frame: SenderFrame | null) => boolean;

/** The answer to a caller that is not the Doppel window. */
export function refuseSender(what: string, event: InvokeEvent): IpcResult<never> {
  console.warn(`doppel: refused ${what} from untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`);
  return failure({ kind: 'invalid-argument', message: `${what}: refused, the sender is not the Doppel window` });
}

/** Registers exactly one `doppel:<member>` handler per member of DoppelApi, each delegating to `service`. */
export function registerIpc(ipcMain: IpcMainLike, service: DoppelApi, isTrustedSender: SenderCheck): void {
  const register = (member: ApiMember): void => {
    ipcMain.handle(channelFor(member), async (event, ...raw) => {
      if (!isTrustedSender(event.senderFrame)) return refuseSender(member, event);
      return dispatch(service, member, raw);
    });
  };
  for (const member of API_MEMBERS) register(member);
}
