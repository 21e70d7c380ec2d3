// "Find similar to these files" from the command line: the main process reads the files named (only those, size-
// limited: src/core/library/named-images.ts) and sends their names and bytes to the window on FIND_SIMILAR_CHANNEL,
// once its page has loaded; the renderer then runs what it runs for an image dropped on the window.
// Free of runtime electron imports so it runs under plain Node in tests.
import { describeProblem, readNamedImages } from '../core/library/named-images.js';
import { FIND_SIMILAR_CHANNEL, type FindSimilarRequest } from '../shared/ipc.js';

/** The part of Electron's WebContents used here. */
export interface ContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  isLoading(): boolean;
  once(event: 'did-finish-load', listener: () => void): void;
}

export interface FindSimilarDeps {
  /** The window's contents, or null while there is no window. */
  contents(): ContentsLike | null;
  read?: typeof readNamedImages;
  warn?: (line: string) => void;
}

export class FindSimilarRequests {
  /** Requests read while there was no window to send them to, sent by flush(). */
  private readonly pending: FindSimilarRequest[] = [];

  constructor(private readonly deps: FindSimilarDeps) {}

  /**
   * Reads `files` and sends them to the window (now, once its page has loaded, or at the next flush when there is
   * no window). Never rejects: a file that cannot be read is a problem of the request, which the window shows.
   */
  async open(files: readonly string[]): Promise<FindSimilarRequest | null> {
    if (files.length === 0) return null;
    let request: FindSimilarRequest;
    try {
      request = await (this.deps.read ?? readNamedImages)(files);
    } catch (err) {
      request = { files: [], problems: files.map((path) => ({ path, reason: `Cannot be read (${String(err)})` })) };
    }
    const warn = this.deps.warn ?? ((line: string) => console.warn(line));
    for (const problem of request.problems) warn(`doppel: find similar: ${describeProblem(problem)}`);
    this.pending.push(request);
    this.flush();
    return request;
  }

  /** Sends what is pending to the window, if there is one; call it when a window has been created. */
  flush(): void {
    const contents = this.deps.contents();
    if (!contents || contents.isDestroyed() || this.pending.length === 0) return;
    const requests = this.pending.splice(0);
    const send = (): void => {
      if (contents.isDestroyed()) return;
      for (const request of requests) contents.send(FIND_SIMILAR_CHANNEL, request);
    };
    if (contents.isLoading()) contents.once('did-finish-load', send);
    else send();
  }
}
