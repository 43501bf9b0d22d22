// The pure scheduler (vLLM v1 core/sched). There is no prefill or decode phase: each sequence
// has numComputed tokens in the KV cache out of numTokens known, and a step gives sequences, in
// order, as many tokens as close that gap, within the step's token budget (chunked prefill comes
// for free). It decides and does bookkeeping of KV blocks; it never touches tensors.
//
// Policy, in order, each call (= one micro-batch):
//  1. running sequences not in flight, oldest first, get min(gap, budget) tokens; when their new
//     blocks do not fit, the newest running sequence not in flight is preempted (blocks freed,
//     numComputed = 0, back to the front of the waiting queue: recompute later);
//  2. waiting sequences are admitted FCFS while seats, budget and blocks allow;
//  3. a sequence that could not fit even alone in the whole cache is rejected with the numbers;
//  4. a sequence marked `isolate` (its micro-batch failed) runs in a micro-batch of its own.
//
// The scheduler owns every sequence's scheduling state (vLLM update_from_output): which are in
// flight, numComputed, isolate, preemptions. The caller reports each step's end (updateFromStep or
// failStep) and ends sequences with finish (done) or abort (request failed), nothing else.

export interface KvBlocks {
  readonly blockSize: number;
  readonly maxSeqs: number;
  readonly maxBlocksPerSeq: number;
  readonly pool: { readonly nBlocks: number; readonly numFree: number };
  readonly numFreeSeqs: number;
  blocksNeeded(slot: number, nTokens: number): number;
  acquireSeq(): number;
  reserve(slot: number, nTokens: number): void;
  releaseSeq(slot: number): void;
}

export interface SchedSeq {
  numComputed: number;    // tokens whose K/V are in the cache (written by the scheduler only)
  readonly numTokens: number; // tokens known (prompt + generated)
  slot: number;           // KV block-table row while admitted, -1 otherwise (scheduler only)
  readonly maxTotalTokens: number; // prompt + max_tokens: what it may grow to
  isolate?: boolean;      // run alone: its last micro-batch failed, find out whether it is the cause (scheduler only)
}

export interface SchedulerLimits {
  maxBatchedTokens: number; // rows per micro-batch
  maxLogitRows: number;     // rows that sample per micro-batch
}

export interface ScheduledRow<S> { seq: S; numTokens: number }

export interface ScheduleOutput<S> {
  rows: Array<ScheduledRow<S>>; // sequences and how many tokens each advances, in batch order
  preempted: S[];
  rejected: Array<{ seq: S; reason: string }>;
}

/** A row of a finished step whose sequence reached the end of its known tokens: it samples from logits row `row`. */
export interface SampleRow<S> { seq: S; row: number }

export class Scheduler<S extends SchedSeq> {
  readonly waiting: S[] = [];
  readonly running: S[] = [];
  private _preemptions = 0;
  private readonly inFlight = new Set<S>();
  private readonly aborted = new Set<S>(); // aborted while in flight: released when their step returns

  constructor(private readonly kv: KvBlocks, private readonly limits: SchedulerLimits) {}

  add(seq: S): void {
    this.waiting.push(seq);
  }

  get hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  get preemptions(): number { return this._preemptions; }
  get numInFlight(): number { return this.inFlight.size; }

  /** Plans one micro-batch from sequences not in flight; its rows are in flight until updateFromStep/failStep. */
  schedule(): ScheduleOutput<S> {
    const out = this.plan(this.inFlight);
    for (const r of out.rows) this.inFlight.add(r.seq);
    return out;
  }

  /**
   * The step `out` finished: each row's sequence has numTokens more tokens in the cache. Returns
   * the rows that reached the end of their known tokens, with their logits row, in batch order
   * (they sample next); sequences aborted meanwhile are released and left out.
   */
  updateFromStep(out: ScheduleOutput<S>): Array<SampleRow<S>> {
    const sample: Array<SampleRow<S>> = [];
    let row = 0;
    for (const { seq, numTokens } of out.rows) {
      this.inFlight.delete(seq);
      seq.numComputed += numTokens;
      const ends = seq.numComputed === seq.numTokens;
      if (this.aborted.delete(seq)) this.release(seq);
      else {
        seq.isolate = false;
        if (ends) sample.push({ seq, row });
      }
      if (ends) row++; // its logits row exists whether or not it still samples
    }
    return sample;
  }

  /** The step `out` failed: its rows leave flight; with several rows each runs alone next, to find the culprit. */
  failStep(out: ScheduleOutput<S>): void {
    for (const { seq } of out.rows) {
      this.inFlight.delete(seq);
      if (this.aborted.delete(seq)) this.release(seq);
      else if (out.rows.length > 1) seq.isolate = true;
    }
  }

  /** Ends a sequence whose request failed: released now, or when its step in flight returns. */
  abort(seq: S): void {
    if (this.inFlight.has(seq)) { this.aborted.add(seq); return; }
    this.release(seq);
  }

  private release(seq: S): void {
    const i = this.waiting.indexOf(seq);
    if (i >= 0) this.waiting.splice(i, 1);
    this.finish(seq);
  }

  /** Plans one micro-batch from sequences not in `inFlight`. */
  private plan(inFlight: ReadonlySet<S>): ScheduleOutput<S> {
    const out: ScheduleOutput<S> = { rows: [], preempted: [], rejected: [] };
    const budget = { tokens: this.limits.maxBatchedTokens, logits: this.limits.maxLogitRows };
    for (let i = 0; i < this.running.length && budget.tokens > 0; i++) {
      const s = this.running[i];
      if (inFlight.has(s)) continue;
      if (s.isolate && out.rows.length > 0) continue;
      const k = this.take(s, budget);
      if (k === 0) continue;
      if (!this.fitOrPreempt(s, s.numComputed + k, inFlight, out)) break;
      this.commit(out, s, k, budget);
      if (s.isolate) return out;
    }
    if (out.rows.some((r) => r.seq.isolate)) return out;
    this.admit(out, budget);
    return out;
  }

  /** Removes a finished sequence and frees its blocks. */
  finish(seq: S): void {
    const i = this.running.indexOf(seq);
    if (i >= 0) this.running.splice(i, 1);
    if (seq.slot >= 0) this.kv.releaseSeq(seq.slot);
    seq.slot = -1;
  }

  private take(s: S, budget: { tokens: number; logits: number }): number {
    const gap = s.numTokens - s.numComputed;
    if (gap <= 0) return 0;
    const k = Math.min(gap, budget.tokens);
    return k === gap && budget.logits === 0 ? 0 : k; // reaching the end means sampling: needs a logits row
  }

  private commit(out: ScheduleOutput<S>, s: S, k: number, budget: { tokens: number; logits: number }): void {
    this.kv.reserve(s.slot, s.numComputed + k);
    out.rows.push({ seq: s, numTokens: k });
    budget.tokens -= k;
    if (s.numComputed + k === s.numTokens) budget.logits--;
  }

  /** Makes room for `s` to hold nTokens, preempting the newest idle running sequences; false if impossible. */
  private fitOrPreempt(s: S, nTokens: number, inFlight: ReadonlySet<S>, out: ScheduleOutput<S>): boolean {
    while (this.kv.blocksNeeded(s.slot, nTokens) > this.kv.pool.numFree) {
      const victim = this.newestIdle(inFlight, out);
      if (!victim || victim === s) return false;
      this.preempt(victim, out);
    }
    return true;
  }

  private newestIdle(inFlight: ReadonlySet<S>, out: ScheduleOutput<S>): S | undefined {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const v = this.running[i];
      if (!inFlight.has(v) && !out.rows.some((r) => r.seq === v)) return v;
    }
    return undefined;
  }

  private preempt(victim: S, out: ScheduleOutput<S>): void {
    this.running.splice(this.running.indexOf(victim), 1);
    this.kv.releaseSeq(victim.slot);
    victim.slot = -1;
    victim.numComputed = 0; // recompute: its tokens so far are prefilled again later
    this.waiting.unshift(victim);
    out.preempted.push(victim);
    this._preemptions++;
  }

  private admit(out: ScheduleOutput<S>, budget: { tokens: number; logits: number }): void {
    const capacity = this.kv.pool.nBlocks * this.kv.blockSize;
    while (this.waiting.length > 0 && budget.tokens > 0 && this.kv.numFreeSeqs > 0 && this.running.length < this.kv.maxSeqs) {
      const s = this.waiting[0];
      const maxTokens = Math.min(capacity, this.kv.maxBlocksPerSeq * this.kv.blockSize);
      if (s.maxTotalTokens > maxTokens) {
        this.waiting.shift();
        out.rejected.push({ seq: s, reason: `needs up to ${s.maxTotalTokens} tokens of KV cache (prompt + max_tokens) but the cache holds only ${maxTokens} tokens (${this.kv.pool.nBlocks} blocks of ${this.kv.blockSize}); raise kv_cache_tokens` });
        continue;
      }
      const k = this.take(s, budget);
      if (k === 0 || Math.ceil((s.numComputed + k) / this.kv.blockSize) > this.kv.pool.numFree) break;
      this.waiting.shift();
      s.slot = this.kv.acquireSeq();
      this.running.push(s);
      this.commit(out, s, k, budget);
    }
  }
}
