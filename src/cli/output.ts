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
      process.stderr.write(`\r\x1b[2K${text}`);
    } else if (force || now - this.last > 5000) {
      this.last = now;
      process.stderr.write(`${text}\n`);
    }
  }
  done(text?: string): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write('\r\x1b[2K');
    if (text) process.stderr.write(`${text}\n`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
