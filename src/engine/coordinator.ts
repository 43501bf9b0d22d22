// The coordinator: continuous batching at iteration level. It keeps up to K micro-batches in
// flight (one per batch slot; K ≥ stages so every stage works at once), each built by the pure
// scheduler from sequences not already in flight; finished sequences leave and waiting ones join
// at every step. It samples on this thread, so a request's tokens never depend on the layout.
import type { ModelConfig } from '../model/config.js';
import type { BlockTables } from '../kv/block-pool.js';
import { rootHash } from '../kv/prefix-hash.js';
import type { KvStore } from '../kv/kv-store.js';
import { Sampler } from '../sampling/sampler.js';
import { Scheduler, type BlockCopy, type ScheduleOutput } from '../scheduler/scheduler.js';
import type { Tokenizer } from '../tokenizer/types.js';
import type { Executor, StageSpan } from './executor.js';
import { prepareRequest } from './prepare.js';
import { Sequence } from './sequence.js';
import type { Completion, GenerateRequest, RequestFailure } from './types.js';
import { RequestError, type RequestErrorCode } from '../errors.js';
import { GrammarEngine, type Constraint, type StructuredStats } from '../structured/grammars.js';
import type { PreparedRequest } from './prepare.js';

export interface CoordinatorStats {
  steps: number;
  readonly preemptions: number; // the scheduler's count
  retries: number;
  promptTokens: number;
  readonly promptTokensCached: number;   // prompt tokens shared (prefix cache, n > 1 forks), not computed
  readonly promptTokensComputed: number; // the scheduler's counts, at each sequence's first admission
  generatedTokens: number;
  spans: StageSpan[];     // kept only when recordSpans is on (profiles)
  readonly structured: StructuredStats | null; // grammar compiles and masks (null: no structured request yet)
}

export interface CoordinatorOptions {
  prefixCaching?: boolean; // share cached KV blocks of equal prefixes (default on)
  modelId?: string;        // seeds the prefix hash chain, so two models never share a block
  kv?: KvStore[];          // every stage's KV store: forks (n > 1) copy their partial block there
  forkChoices?: boolean;   // false: every choice prefills its prompt itself (tests, benches)
}

interface Pending { completion: Completion; left: number; resolve: (c: Completion) => void }

export class Coordinator {
  readonly stats: CoordinatorStats;
  recordSpans = false;
  /** Optional: called for every sampled token (timeMs = performance.now()); for latency metrics. */
  onToken?: (requestId: string, choice: number, tokenIndex: number, timeMs: number) => void;
  private readonly scheduler: Scheduler<Sequence>;
  private readonly sampler: Sampler;
  private readonly freeSlots: number[];
  private readonly pending = new Map<Sequence, Pending>();
  private readonly eosIds: readonly number[];
  private grammars: GrammarEngine | null = null; // built on the first structured request

  constructor(private readonly exec: Executor, private readonly config: ModelConfig, private readonly tables: BlockTables,
    private readonly tok: Tokenizer, private readonly seed = 0, private readonly opts: CoordinatorOptions = {}) {
    const self = this; // the stats getter reads this.grammars, built later
    const scheduler = this.scheduler = new Scheduler<Sequence>(tables, { maxBatchedTokens: exec.maxTokens, maxLogitRows: exec.maxLogitRows },
      { prefixCaching: opts.prefixCaching === false ? null : { root: rootHash(opts.modelId ?? JSON.stringify(config)) } });
    this.stats = {
      steps: 0, retries: 0, promptTokens: 0, generatedTokens: 0, spans: [],
      get preemptions() { return scheduler.preemptions; },
      get promptTokensCached() { return scheduler.promptTokens.cached; },
      get promptTokensComputed() { return scheduler.promptTokens.computed; },
      get structured() { return self.grammars?.stats ?? null; },
    };
    this.sampler = new Sampler(config.vocabSize);
    this.freeSlots = exec.slots.map((_, k) => k);
    // ids that end a sequence: config.json / generation_config.json's and the tokenizer's own (vLLM takes both)
    this.eosIds = [...new Set([...config.eosTokenIds, ...tok.eosIds])].filter((id) => id < config.vocabSize);
  }

  /** Queues a request; resolves when all its choices finish (or with its error). */
  submit(req: GenerateRequest): Promise<Completion> {
    let prepared: PreparedRequest;
    try {
      prepared = prepareRequest(req, this.config, this.tok);
    } catch (e) {
      return Promise.resolve(refused(req, e));
    }
    if (prepared.structured === null) return this.enqueue(req, prepared, null);
    // a grammar first: the request joins the scheduler once its choices' matchers are ready
    return this.constraints(prepared, `request ${JSON.stringify(req.id)}`).then(
      (cs) => this.enqueue(req, prepared, cs),
      (e) => refused(req, e),
    );
  }

  private async constraints(prepared: PreparedRequest, where: string): Promise<Constraint[]> {
    this.grammars ??= new GrammarEngine(this.tok, this.config.vocabSize, this.eosIds);
    const compiled = await this.grammars.compile(prepared.structured!, where);
    const out: Constraint[] = [];
    for (let k = 0; k < prepared.params.n; k++) out.push(await this.grammars.constraint(compiled));
    return out;
  }

  private enqueue(req: GenerateRequest, prepared: PreparedRequest, constraints: Constraint[] | null): Promise<Completion> {
    const completion: Completion = { id: req.id, prompt_token_ids: prepared.promptIds, choices: [], error: null, num_cached_tokens: 0 };
    return new Promise((resolve) => {
      const p: Pending = { completion, left: prepared.params.n, resolve };
      let first: Sequence | null = null;
      for (let k = 0; k < prepared.params.n; k++) {
        const s = new Sequence(k, prepared.promptIds.length, prepared.promptIds, prepared.params, req.id, this.seed, this.tok, this.eosIds);
        s.constraint = constraints?.[k] ?? null;
        if (this.opts.forkChoices !== false) s.forkOf = first; // later choices share its prompt rows: one prefill for n
        first ??= s;
        this.pending.set(s, p);
        this.scheduler.add(s);
      }
      this.stats.promptTokens += prepared.promptIds.length * prepared.params.n;
      this.schedulePump();
    });
  }

  /** Frees what outlives a job: the grammar engine's WASM objects. */
  dispose(): void {
    this.grammars?.dispose();
    this.grammars = null;
  }

  /** Runs every request; results in request order; onDone as each completes. */
  generate(requests: GenerateRequest[], onDone?: (c: Completion, index: number) => void): Promise<Completion[]> {
    return Promise.all(requests.map((r, i) => this.submit(r).then((c) => { onDone?.(c, i); return c; })));
  }

  private pumpQueued = false;
  /** Pumps once after the current synchronous burst of submits, so they can share micro-batches. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => { this.pumpQueued = false; this.pump(); });
  }

  /** Fills free slots with new micro-batches while the scheduler has something to run. */
  private pump(): void {
    while (this.freeSlots.length > 0 && this.scheduler.hasWork) {
      const plan = this.scheduler.schedule();
      for (const r of plan.rejected) this.fail(r.seq, 'kv_cache_too_small', `request ${JSON.stringify(r.seq.requestId)}: ${r.reason}`);
      if (plan.rows.length === 0) {
        if (this.scheduler.numInFlight === 0 && this.scheduler.hasWork && plan.rejected.length === 0) {
          // cannot happen with a cache that holds one full context; fail loudly rather than hang
          for (const s of [...this.scheduler.running, ...this.scheduler.waiting]) this.fail(s, 'internal_error', 'scheduler could not place the request (internal error)');
        }
        if (plan.rejected.length === 0) return;
        continue;
      }
      this.launch(plan);
    }
  }

  private launch(plan: ScheduleOutput<Sequence>): void {
    const k = this.freeSlots.pop()!;
    const slot = this.exec.slots[k];
    this.copyBlocks(plan.copies);
    let n = 0;
    for (const { seq, numTokens } of plan.rows) {
      for (let j = 0; j < numTokens; j++, n++) {
        const pos = seq.numComputed + j;
        slot.tokens[n] = seq.tokens[pos];
        slot.positions[n] = pos;
        slot.seqIds[n] = seq.slot;
        slot.slots[n] = this.tables.slot(seq.slot, pos);
        slot.needsLogits[n] = pos === seq.numTokens - 1 ? 1 : 0;
      }
    }
    this.stats.steps++;
    this.exec.run(k, n).then(
      (res) => {
        this.stats.retries += res.retries;
        if (this.recordSpans) this.stats.spans.push(...res.spans);
        this.complete(k, plan);
      },
      (err: Error) => {
        this.scheduler.failStep(plan);
        if (plan.rows.length === 1) {
          const seq = plan.rows[0].seq;
          this.fail(seq, 'forward_failed', `request ${JSON.stringify(seq.requestId)}: forward pass failed: ${err.message}`);
        } // else: one bad request must not sink its neighbours; each reruns alone (failStep) to find the culprit
        this.freeSlots.push(k);
        this.pump();
      },
    ).catch((err: Error) => {
      // a bug in sampling or bookkeeping must not leave promises hanging
      for (const s of [...this.pending.keys()]) this.fail(s, 'internal_error', `internal error: ${err.message}`);
    });
  }

  private complete(k: number, plan: ScheduleOutput<Sequence>): void {
    const V = this.config.vocabSize, logits = this.exec.slots[k].logits;
    for (const { seq, row } of this.scheduler.updateFromStep(plan)) {
      const mask = seq.constraint?.mask ?? null;
      const argmax = Sampler.argmaxOnly(seq.params) ? this.headArgmax(k, row) : -1;
      const sampled = this.sampler.sample(logits, row * V, seq.sampling, argmax, mask);
      if (sampled.token < 0) {
        this.fail(seq, 'internal_error', `request ${JSON.stringify(seq.requestId)}: no token can be sampled: every logit ${mask ? 'the grammar allows ' : ''}of the row is -Infinity or NaN`);
        continue;
      }
      seq.append(sampled);
      if (seq.grammarRejected) {
        this.fail(seq, 'internal_error', `request ${JSON.stringify(seq.requestId)}: the grammar rejected token ${sampled.token}, which its mask allowed (internal error)`);
        continue;
      }
      this.stats.generatedTokens++;
      this.onToken?.(seq.requestId, seq.choice, seq.numGenerated - 1, performance.now());
      if (seq.finish) this.finish(seq);
    }
    this.freeSlots.push(k);
    this.pump();
  }

  /**
   * The first index of logits row r's largest value, merged from the head's per-part results
   * (parts in vocabulary order; a later part wins only with a strictly larger value): exactly
   * the scan of the whole row, without reading its V values on this thread. -1 when a part
   * reports NaN, which the scan handles by position (the sampler then scans).
   */
  private headArgmax(k: number, r: number): number {
    const { argIdx, argMax } = this.exec.slots[k], M = this.exec.maxLogitRows;
    let best = -Infinity, at = -1;
    for (let p = 0; p < this.exec.headParts; p++) {
      const v = argMax[p * M + r];
      if (v !== v) return -1;
      if (at < 0 || v > best) { best = v; at = argIdx[p * M + r]; }
    }
    return at;
  }

  /** Copy on write: a fork's partial block gets the rows of its sibling's, in every layer of every stage. */
  private copyBlocks(copies: readonly BlockCopy[]): void {
    for (const { src, dst, rows } of copies) {
      for (const store of this.opts.kv ?? []) {
        if (store.k.length === 0) continue;
        const B = store.blockSize, W = store.k[0].length / (store.nBlocks * B); // elements per row (f32 or f16 values, q8 bytes)
        for (const a of [...store.k, ...store.v]) a.copyWithin(dst * B * W, src * B * W, (src * B + rows) * W);
      }
    }
  }

  private finish(seq: Sequence): void {
    this.scheduler.finish(seq);
    const p = this.pending.get(seq)!;
    this.pending.delete(seq);
    seq.constraint?.dispose();
    if (seq.choice === 0) p.completion.num_cached_tokens = seq.numCachedTokens ?? 0;
    p.completion.choices[seq.choice] = seq.toChoice();
    if (--p.left === 0) p.resolve(p.completion);
  }

  /** Ends the whole request with an error; the scheduler releases its sequences once no worker uses them. */
  private fail(seq: Sequence, code: RequestErrorCode, message: string): void {
    const p = this.pending.get(seq);
    if (!p) return;
    for (const [s, q] of [...this.pending]) {
      if (q !== p) continue;
      this.pending.delete(s);
      this.scheduler.abort(s);
      s.constraint?.dispose();
      s.constraint = null;
    }
    p.completion.choices = [];
    p.completion.error = { code, message };
    p.resolve(p.completion);
  }
}

/** A request refused before it ran (bad fields, a grammar that cannot compile). */
function refused(req: GenerateRequest, e: unknown): Completion {
  return { id: req.id, prompt_token_ids: [], choices: [], error: failure(e), num_cached_tokens: 0 };
}

/** A request refused before it ran: its typed code, or invalid_request for an error without one. */
function failure(e: unknown): RequestFailure {
  return { code: e instanceof RequestError ? e.code : 'invalid_request', message: (e as Error).message };
}
