// Terminal output helpers: a progress line on stderr (only on a TTY, or forced), JSON lines on stdout.
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function bar(done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%`;
}

/** Rewrites one status line on stderr when it is a terminal; prints a line every few seconds otherwise. */
export class StatusLine {
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(private readonly quiet = false) {}
  update(text: string, force = false): void {
    if (this.quiet) return;
    const now = Date.now();
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${terminalSafe(text)}`);
    } else if (force || now - this.last > 5000) {
      this.last = now;
      process.stderr.write(`${terminalSafe(text)}\n`);
    }
  }
  done(text?: string): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write('\r\x1b[2K');
    if (text) process.stderr.write(`${terminalSafe(text)}\n`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Control characters (C0, DEL, C1) and the bidirectional overrides that could reorder a line on screen. */
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text as it may reach a terminal: control characters are written as escapes (`\x1b`, `\n`, `\u202e`), so a
 * file name cannot move the cursor, change colours, set the window title or fake a line of output.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A reader that goes away (`doppel dupes | head -1`) closes the pipe: the command goes on without printing
 * (so a move to the trash still logs what it moved) and ends as it would have, instead of dying on EPIPE.
 */
export function quietWhenClosed(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = (() => true) as typeof stream.write;
  });
}
