// Latency samples with flat memory: exact count and mean, percentiles from a fixed-size
// reservoir (Algorithm R with a deterministic generator).

export interface LatencySummary { count: number; mean: number; p50: number; p99: number }

export class Latency {
  private n = 0;
  private sum = 0;
  private readonly sample: number[] = [];
  private state = 0x9e3779b9;
  constructor(private readonly cap = 20000) {}

  add(ms: number): void {
    this.n++;
    this.sum += ms;
    if (this.sample.length < this.cap) return void this.sample.push(ms);
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    const j = this.state % this.n;
    if (j < this.cap) this.sample[j] = ms;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, mean: 0, p50: 0, p99: 0 };
    const s = [...this.sample].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { count: this.n, mean: this.sum / this.n, p50: q(0.5), p99: q(0.99) };
  }
}

/** TTFT (submit → first token), TPOT (per request: (last − first) / (tokens − 1)), ITL (every gap). */
export class TokenTimer {
  readonly ttft = new Latency();
  readonly tpot = new Latency();
  readonly itl = new Latency();
  private readonly submitted = new Map<string, number>();
  private readonly seqs = new Map<string, { first: number; last: number; count: number }>();

  submit(requestId: string, t: number): void {
    this.submitted.set(requestId, t);
  }

  token(requestId: string, choice: number, index: number, t: number): void {
    const key = `${choice}\u0000${requestId}`;
    const s = this.seqs.get(key);
    if (!s || index === 0) {
      const t0 = this.submitted.get(requestId);
      if (t0 !== undefined && choice === 0) this.ttft.add(t - t0);
      this.seqs.set(key, { first: t, last: t, count: 1 });
      return;
    }
    this.itl.add(t - s.last);
    s.last = t;
    s.count++;
  }

  /** The request is done: fold its sequences into TPOT and forget it. */
  finish(requestId: string, choices: number): void {
    this.submitted.delete(requestId);
    for (let c = 0; c < Math.max(1, choices); c++) {
      const key = `${c}\u0000${requestId}`;
      const s = this.seqs.get(key);
      if (s && s.count > 1) this.tpot.add((s.last - s.first) / (s.count - 1));
      this.seqs.delete(key);
    }
  }
}
