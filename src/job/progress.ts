// Progress on stderr: a redrawn bar on a TTY (requests done, tokens/s, ETA), a plain line every
// interval otherwise, nothing when quiet.

export interface ProgressState { done: number; total: number; generated: number; elapsedS: number }

export interface ProgressOptions { quiet: boolean; tty: boolean; intervalS: number; write: (s: string) => void }

export function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(Math.floor(s % 60))}` : `${pad(m)}:${pad(Math.floor(s % 60))}`;
}

export function progressLine(p: ProgressState, bar: boolean): string {
  const tokS = p.generated / Math.max(1e-9, p.elapsedS);
  const eta = p.done > 0 ? ((p.total - p.done) * p.elapsedS) / p.done : NaN;
  const pct = p.total > 0 ? p.done / p.total : 1;
  const stats = `${p.done}/${p.total} requests  ${tokS.toFixed(1)} tok/s  ETA ${formatEta(eta)}`;
  if (!bar) return `progress: ${stats}`;
  const w = 30, full = Math.round(pct * w);
  return `[${'#'.repeat(full)}${'.'.repeat(w - full)}] ${(100 * pct).toFixed(0).padStart(3)}% ${stats}`;
}

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly opts: ProgressOptions, private readonly state: () => ProgressState) {}

  start(): void {
    if (this.opts.quiet) return;
    const ms = this.opts.tty ? 200 : this.opts.intervalS * 1000;
    this.timer = setInterval(() => this.draw(), ms);
    this.timer.unref();
  }

  private draw(): void {
    const line = progressLine(this.state(), this.opts.tty);
    if (this.opts.tty) {
      this.opts.write(`\r${line}\u001b[K`);
    } else {
      this.opts.write(line + '\n');
    }
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.draw(); // the final state
    if (this.opts.tty) this.opts.write('\n');
  }
}
