// Scoring a token stream: mean negative log-likelihood (natural log) and perplexity.
// Beyond the context, sliding windows of W = n_positions tokens with stride S = W/2: windows
// start at 0, S, 2S, ...; the first scores targets 1..e-1, each later one only the targets past
// the previous window's end, so every token after the first is scored exactly once and (after
// the first window) with at least W - S tokens of context. Positions restart at 0 per window.
import type { BlockTables } from '../kv/block-pool.js';
import type { ModelConfig } from '../model/config.js';
import type { ForwardContext } from '../model/forward.js';
import type { TensorPart } from '../model/tensor-parallel.js';

/** What scoring needs of an engine: the model in this thread, a workspace and the KV block tables (runtime/local-engine.ts). */
export interface ScoringEngine {
  readonly config: ModelConfig;
  readonly ctx: ForwardContext;
  readonly tables: BlockTables;
  readonly part: TensorPart;        // the whole model in this thread
}
import { forward } from '../model/forward.js';
import { RequestError } from '../errors.js';

export interface ScoreResult {
  mean_nll: number;
  perplexity: number;
  n_scored: number;
  token_logprobs: number[]; // [i] = log p(token i+1 | what precedes it)
}

export function scoreWindows(n: number, window: number, stride: number): Array<{ start: number; end: number; from: number }> {
  checkStride(stride, window);
  const out: Array<{ start: number; end: number; from: number }> = [];
  let prevEnd = 1; // token 0 is never scored
  for (let s = 0; ; s += stride) {
    const e = Math.min(s + window, n);
    out.push({ start: s, end: e, from: prevEnd });
    if (e === n) return out;
    prevEnd = e;
  }
}

/**
 * Runs ids[start..end) as one sequence (positions from 0) in chunks, and calls visit(i, logits, offset)
 * for each index i where needs(i): logits[offset .. offset+V) are the raw logits after ids[start..i]
 * (with logProbs, their log-softmax, computed in place by the backend's logSoftmax kernel).
 */
export function runWindow(engine: ScoringEngine, slot: number, ids: readonly number[], start: number, end: number,
  needs: (i: number) => boolean, visit: (i: number, logits: Float32Array, offset: number) => void, logProbs = false): void {
  const { ctx, tables } = engine, ws = ctx.ws, V = engine.config.vocabSize;
  const chunk = Math.min(ws.maxTokens, ws.maxLogitRows);
  for (let p0 = start; p0 < end; p0 += chunk) {
    const n = Math.min(chunk, end - p0);
    for (let r = 0; r < n; r++) {
      const i = p0 + r;
      ws.tokens[r] = ids[i];
      ws.positions[r] = i - start;
      ws.seqIds[r] = slot;
      ws.slots[r] = tables.slot(slot, i - start);
      ws.needsLogits[r] = needs(i) ? 1 : 0;
    }
    const m = forward(ctx, n, engine.part);
    if (logProbs) ctx.kernels.logSoftmax(ws.logits, ws.logits, m, V); // [m, V] in place
    for (let k = 0; k < m; k++) visit(p0 + ws.logitRows[k], ws.logits, k * V);
  }
}

/** Raw logits after every prefix of ids (ids.length ≤ n_positions): [ids.length][V]. */
export function sequenceLogits(engine: ScoringEngine, ids: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  withSlot(engine, ids.length, (slot) => runWindow(engine, slot, ids, 0, ids.length, () => true,
    (_i, l, o) => out.push(l.slice(o, o + engine.config.vocabSize))));
  return out;
}

function withSlot(engine: ScoringEngine, nTokens: number, fn: (slot: number) => void): void {
  const slot = engine.tables.acquireSeq();
  try {
    engine.tables.reserve(slot, nTokens);
    fn(slot);
  } finally {
    engine.tables.releaseSeq(slot);
  }
}

/** Every token after the first is scored exactly once only when 1 ≤ stride < window: a stride < 1
 *  never advances (an endless loop), and from stride = window on, the token at each window start
 *  (its predicting row sits in the window before, which scores only up to its own end) and any
 *  token between windows are never scored. */
function checkStride(stride: number, window: number): void {
  if (!Number.isInteger(stride) || stride < 1 || stride > window - 1) {
    throw new RequestError('invalid_request', `stride must be an integer in [1, ${window - 1}] (below the window of ${window} tokens, n_positions of the model), got ${stride}`);
  }
}

export function scoreTokens(engine: ScoringEngine, ids: readonly number[], stride?: number): ScoreResult {
  const c = engine.config, V = c.vocabSize;
  if (ids.length < 2) throw new RequestError('invalid_prompt', `scoring needs at least 2 tokens, got ${ids.length}`);
  const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= V);
  if (bad >= 0) throw new RequestError('invalid_prompt', `token ${bad} must be an integer in [0, ${V - 1}], got ${JSON.stringify(ids[bad])}`);
  const W = c.nPositions, S = stride ?? Math.max(1, Math.floor(W / 2));
  const logprobs: number[] = [];
  withSlot(engine, Math.min(W, ids.length), (slot) => {
    for (const w of scoreWindows(ids.length, W, S)) {
      // the row at index i predicts token i + 1; score it when i + 1 is in [from, end)
      runWindow(engine, slot, ids, w.start, w.end, (i) => i + 1 >= w.from && i + 1 < w.end, (i, l, o) => {
        logprobs.push(l[o + ids[i + 1]]);
      }, true);
    }
  });
  const nll = -logprobs.reduce((a, b) => a + b, 0) / logprobs.length;
  return { mean_nll: nll, perplexity: Math.exp(nll), n_scored: logprobs.length, token_logprobs: logprobs };
}
