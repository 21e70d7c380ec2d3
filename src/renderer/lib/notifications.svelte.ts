// What the app tells the user in passing: the status line's message, and why the library could not be opened.
import { errorMessage } from './client.js';

export class Notifications {
  /** The status line's text (the Library's sidebar, role=status); null when there is nothing to say. */
  message = $state<string | null>(null);
  /** Why the library could not be opened at all (shown as an alert above every view); null while it could. */
  fatal = $state<string | null>(null);

  show(message: string): void {
    this.message = message;
  }

  clear(): void {
    this.message = null;
  }

  /**
   * The one way a failed action reaches the user: `${what}: ${the error's message}` on the status line, e.g.
   * handleError(err, 'Could not add the folder'); without `what`, the error's message alone.
   */
  handleError(err: unknown, what?: string): void {
    this.message = what ? `${what}: ${errorMessage(err)}` : errorMessage(err);
  }

  /** A failure that leaves the app without a library: shown as an alert, `${what}: ${the error's message}`. */
  handleFatal(err: unknown, what: string): void {
    this.fatal = `${what}: ${errorMessage(err)}`;
  }
}
