// Download progress on stderr: bytes, rate and ETA, redrawn in place on a TTY and as plain lines
// (one per finished file, one every few seconds) otherwise, so logs stay readable.
import { formatEta } from '../job/progress.js';

export interface HubProgressSink { tty: boolean; write: (s: string) => void; intervalS?: number }

/** 1023 B, 12.0 KiB, 3.4 MiB, 1.20 GiB */
export function formatBytes(b: number): string {
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 2 ** 20) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 2 ** 30) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${(b / 2 ** 30).toFixed(2)} GiB`;
}

export class ByteProgress {
  private done = 0;
  private files = 0;
  private t0 = Date.now();
  private last = Date.now(); // the first periodic line comes after one interval

  constructor(private readonly sink: HubProgressSink | null, private readonly repo: string,
    private readonly total: number, private readonly nFiles: number) {}

  /** Bytes already on disk (an interrupted run's, or a concurrent pull's): counted as done, not in the rate. */
  resumed(n: number): void {
    this.done += n;
    this.t0 = Date.now();
    this.doneAtStart += n;
  }

  private doneAtStart = 0;

  add(n: number): void {
    this.done += n;
    const now = Date.now(), every = this.sink?.tty ? 100 : (this.sink?.intervalS ?? 5) * 1000;
    if (now - this.last >= every) { this.last = now; this.draw(''); }
  }

  fileDone(name: string): void {
    this.files++;
    this.draw(this.sink?.tty ? '' : ` ${name} done`);
  }

  finish(): void {
    if (this.sink?.tty) this.sink.write('\n');
  }

  line(): string {
    const s = (Date.now() - this.t0) / 1000, fresh = this.done - this.doneAtStart;
    const rate = s > 0 ? fresh / s : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    return `pull ${this.repo}: ${this.files}/${this.nFiles} files  ${formatBytes(this.done)}/${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${formatEta(eta)}`;
  }

  private draw(suffix: string): void {
    if (!this.sink) return;
    if (this.sink.tty) this.sink.write(`\r${this.line()}\u001b[K`);
    else this.sink.write(this.line() + suffix + '\n');
  }
}
