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
// Admission reuses KV rows instead of computing them (rows depend only on their own token and
// position, so a shared row equals a recomputed one):
//  - prefix caching (optional): the longest cached prefix of whole blocks, at most numTokens − 1
//    tokens, is shared (prefix-cache.ts); a sequence whose next block another sequence is computing
//    right now waits (is skipped, FCFS otherwise kept) and hits that block once it is committed;
//  - forks (n > 1): a choice whose `forkOf` sibling has computed the prompt but its last token shares
//    the sibling's full blocks and gets a copy of its last partial block (out.copies, copy on
//    write), then computes only the last prompt token; it waits while the sibling is getting there.
//
// The scheduler owns every sequence's scheduling state (vLLM update_from_output): which are in
// flight, numComputed, isolate, preemptions. The caller reports each step's end (updateFromStep or
// failStep) and ends sequences with finish (done) or abort (request failed), nothing else.

import { PrefixCache } from './prefix-cache.js';

export interface KvBlocks {
  readonly blockSize: number;
  readonly maxSeqs: number;
  readonly maxBlocksPerSeq: number;
  readonly pool: {
    readonly nBlocks: number; readonly numFree: number;
    refCount(b: number): number; lookup(hash: string): number | undefined; register(b: number, hash: string): boolean;
  };
  readonly numFreeSeqs: number;
  blocksNeeded(slot: number, nTokens: number): number;
  blockAt(slot: number, i: number): number;
  acquireSeq(): number;
  appendShared(slot: number, blocks: readonly number[]): void;
  reserve(slot: number, nTokens: number): void;
  releaseSeq(slot: number): void;
}

export interface SchedSeq {
  numComputed: number;    // tokens whose K/V are in the cache (written by the scheduler only)
  readonly numTokens: number; // tokens known (prompt + generated)
  slot: number;           // KV block-table row while admitted, -1 otherwise (scheduler only)
  readonly maxTotalTokens: number; // prompt + max_tokens: what it may grow to
  isolate?: boolean;      // run alone: its last micro-batch failed, find out whether it is the cause (scheduler only)
  readonly tokens?: readonly number[]; // known ids: needed to hit or fill the prefix cache
  readonly promptLen?: number;
  readonly forkOf?: SchedSeq | null;   // n > 1: the choice whose prompt rows this one shares
  numCachedTokens?: number; // tokens shared, not computed, at its first admission (scheduler only)
}

export interface SchedulerOptions {
  prefixCaching?: { root: string } | null; // root: the hash chain's model-specific seed (kv/prefix-hash.ts rootHash)
}

/** Rows 0..rows-1 of block src are copied into block dst before the step runs (a fork's partial block). */
export interface BlockCopy { src: number; dst: number; rows: number }

interface Start { computed: number; shared: number[]; copyFrom?: number }

export interface SchedulerLimits {
  maxBatchedTokens: number; // rows per micro-batch
  maxLogitRows: number;     // rows that sample per micro-batch
}

export interface ScheduledRow<S> { seq: S; numTokens: number }

export interface ScheduleOutput<S> {
  rows: Array<ScheduledRow<S>>; // sequences and how many tokens each advances, in batch order
  preempted: S[];
  copies: BlockCopy[];
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
  private readonly prefix: PrefixCache<S> | null;
  /** Prompt tokens at first admission: computed, or shared (prefix cache hits and forks). */
  readonly promptTokens = { computed: 0, cached: 0 };

  constructor(private readonly kv: KvBlocks, private readonly limits: SchedulerLimits, opts: SchedulerOptions = {}) {
    this.prefix = opts.prefixCaching ? new PrefixCache<S>(kv, opts.prefixCaching.root) : null;
  }

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
        this.prefix?.computed(seq);
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
    const out: ScheduleOutput<S> = { rows: [], preempted: [], copies: [], rejected: [] };
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
    this.prefix?.released(seq);
    if (seq.slot >= 0) this.kv.releaseSeq(seq.slot);
    seq.slot = -1;
  }

  private take(s: S, budget: { tokens: number; logits: number }, from = s.numComputed): number {
    const gap = s.numTokens - from;
    if (gap <= 0) return 0;
    const k = Math.min(gap, budget.tokens);
    return k === gap && budget.logits === 0 ? 0 : k; // reaching the end means sampling: needs a logits row
  }

  private commit(out: ScheduleOutput<S>, s: S, k: number, budget: { tokens: number; logits: number }): void {
    this.kv.reserve(s.slot, s.numComputed + k);
    this.prefix?.computing(s, s.numComputed + k);
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
    this.prefix?.released(victim);
    this.kv.releaseSeq(victim.slot);
    victim.slot = -1;
    victim.numComputed = 0; // recompute: its tokens so far are prefilled again later
    this.waiting.unshift(victim);
    out.preempted.push(victim);
    this._preemptions++;
  }

  private admit(out: ScheduleOutput<S>, budget: { tokens: number; logits: number }): void {
    const B = this.kv.blockSize, capacity = this.kv.pool.nBlocks * B;
    const maxTokens = Math.min(capacity, this.kv.maxBlocksPerSeq * B);
    for (let i = 0; i < this.waiting.length && budget.tokens > 0 && this.kv.numFreeSeqs > 0 && this.running.length < this.kv.maxSeqs;) {
      const s = this.waiting[i];
      if (s.maxTotalTokens > maxTokens) {
        this.waiting.splice(i, 1);
        out.rejected.push({ seq: s, reason: `needs up to ${s.maxTotalTokens} tokens of KV cache (prompt + max_tokens) but the cache holds only ${maxTokens} tokens (${this.kv.pool.nBlocks} blocks of ${B}); raise kv_cache_tokens` });
        continue;
      }
      const start = this.startOf(s);
      if (!start) { i++; continue; } // waits for rows another sequence is computing now
      const k = this.take(s, budget, start.computed);
      // shared blocks nobody holds leave the free queues too
      const taken = Math.ceil((start.computed + k) / B) - start.shared.length + start.shared.filter((b) => this.kv.pool.refCount(b) === 0).length;
      if (k === 0 || taken > this.kv.pool.numFree) break;
      this.waiting.splice(i, 1);
      this.start(out, s, start, k, budget);
    }
  }

  private start(out: ScheduleOutput<S>, s: S, start: Start, k: number, budget: { tokens: number; logits: number }): void {
    s.slot = this.kv.acquireSeq();
    this.kv.appendShared(s.slot, start.shared);
    s.numComputed = start.computed;
    this.prefix?.admitted(s, start.shared.length);
    if (s.numCachedTokens === undefined) {
      s.numCachedTokens = start.computed;
      this.promptTokens.cached += start.computed;
      this.promptTokens.computed += s.numTokens - start.computed;
    }
    this.running.push(s);
    this.commit(out, s, k, budget);
    if (start.copyFrom !== undefined) {
      out.copies.push({ src: start.copyFrom, dst: this.kv.blockAt(s.slot, start.shared.length), rows: start.computed % this.kv.blockSize });
    }
  }

  /** Where s starts: tokens already in the cache and the blocks holding them; null: wait. */
  private startOf(s: S): Start | null {
    const hit = this.prefix?.findHit(s) ?? [];
    const fork = this.forkStart(s);
    if (fork === null) return null;
    if (fork && fork.computed > hit.length * this.kv.blockSize) return fork;
    if (this.prefix?.waitsFor(s, hit.length)) return null;
    return { computed: hit.length * this.kv.blockSize, shared: hit };
  }

  /** A fork's start from its sibling's rows of all but the last prompt token; null: wait; undefined: no fork. */
  private forkStart(s: S): Start | null | undefined {
    const p = s.forkOf as S | null | undefined, at = (s.promptLen ?? 0) - 1;
    if (!p || at <= 0 || s.tokens === undefined) return undefined;
    if (!this.running.includes(p)) return this.waiting.includes(p) ? null : undefined; // gone: compute like any other
    if (p.numComputed < at) return null;
    const B = this.kv.blockSize, full = Math.floor(at / B);
    const shared = Array.from({ length: full }, (_, i) => this.kv.blockAt(p.slot, i));
    return { computed: at, shared, copyFrom: at % B ? this.kv.blockAt(p.slot, full) : undefined };
  }
}
