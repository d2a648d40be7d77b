/** A one-line progress bar on stderr; plain lines when stderr is not a terminal. */

export class Progress {
  private total = 0;
  private done = 0;
  private label = '';
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = Date.now();

  constructor(private readonly quiet = false) {}

  /** Declares how many steps the whole run has. */
  plan(total: number): void {
    this.total = total;
  }

  step(label: string): void {
    this.done = Math.min(this.total, this.done + (this.label ? 1 : 0));
    this.label = label;
    this.draw(true);
  }

  /** A sub-step detail, redrawn at most a few times a second. */
  detail(text: string): void {
    this.draw(false, text);
  }

  finish(): void {
    this.done = this.total;
    this.label = 'done';
    this.draw(true);
    if (this.tty && !this.quiet) process.stderr.write('\n');
  }

  private draw(force: boolean, detail = ''): void {
    if (this.quiet) return;
    const now = Date.now();
    // A terminal redraws a few times a second; a log file gets a line every few seconds.
    if (!force && now - this.lastDraw < (this.tty ? 250 : 5000)) return;
    this.lastDraw = now;
    const width = 24;
    const frac = this.total ? this.done / this.total : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const secs = ((now - this.started) / 1000).toFixed(0).padStart(3);
    const line = `[${bar}] ${String(this.done).padStart(2)}/${this.total} ${secs}s ${this.label}${detail ? ` — ${detail}` : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }
}
