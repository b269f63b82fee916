/** Where progress goes: stderr by default, so stdout stays clean for data (`query --format json`). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Progress of long work on the terminal: a live line on a TTY, a line every few seconds otherwise.
 *
 * @example
 * const progress = new Progress('seed');
 * progress.update(500, 1000, 'patients');
 * progress.done('1000 patients');
 */
export class Progress {
  private lastPrint = 0;
  private live = false;
  private readonly started = Date.now();

  public constructor(
    private readonly label: string,
    private readonly stream: ProgressStream = process.stderr,
    private readonly intervalMs = 2000,
    private readonly quiet = false,
  ) {}

  /** A progress with the same label that prints nothing (for work whose outcome the caller reports itself). */
  public quietCopy(): Progress {
    return new Progress(this.label, this.stream, this.intervalMs, true);
  }

  public update(done: number, total?: number, unit = ''): void {
    if (this.quiet) return;
    const now = Date.now();
    const tty = Boolean(this.stream.isTTY);
    if (!tty && now - this.lastPrint < this.intervalMs) return;
    if (tty && now - this.lastPrint < 100) return;
    this.lastPrint = now;
    const pct = total ? ` ${Math.floor((done / total) * 100)}%` : '';
    const rate = done / Math.max((now - this.started) / 1000, 0.001);
    const text = `${this.label}: ${done}${total ? `/${total}` : ''} ${unit}${pct} (${Math.round(rate)}/s)`;
    if (tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.live = true;
    } else this.stream.write(`${text}\n`);
  }

  /** A free-form status line. */
  public note(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.stream.write(`${this.label}: ${text}\n`);
  }

  public done(summary: string): void {
    if (this.quiet) return;
    this.clear();
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.stream.write(`${this.label}: ${summary} in ${seconds}s\n`);
  }

  private clear(): void {
    if (this.live) this.stream.write('\r\x1b[2K');
    this.live = false;
  }
}
