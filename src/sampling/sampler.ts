// Turns one row of logits into the next token. Order: penalties → greedy (argmax) or
// temperature → top-k → top-p → min-p → draw from the request's own RNG. Log-probs are those
// of the raw model distribution (before any processing), as vLLM reports them by default.
// Scratch rows are allocated once per Sampler (size V), never per token.
import { GREEDY_EPS, type SamplingParams } from './params.js';
import type { RequestRng } from './rng.js';

export interface SequenceSamplingState {
  params: SamplingParams;
  rng: RequestRng;
  seen: Set<number>;                // prompt + generated ids (repetition_penalty)
  outputCounts: Map<number, number>; // generated id → count (presence/frequency penalties)
}

export interface TopLogprob { token_id: number; logprob: number }
export interface SampledToken { token: number; logprob: number | null; top: TopLogprob[] | null }

export class Sampler {
  private readonly work: Float32Array;   // [V] processed logits
  private readonly sorted: Float32Array; // [V] for top-k / top-p thresholds
  private readonly logp: Float32Array;   // [V] raw log-probs

  constructor(readonly vocabSize: number) {
    this.work = new Float32Array(vocabSize);
    this.sorted = new Float32Array(vocabSize);
    this.logp = new Float32Array(vocabSize);
  }

  /** Samples from logits[offset .. offset+V). */
  sample(logits: Float32Array, offset: number, st: SequenceSamplingState): SampledToken {
    const V = this.vocabSize, w = this.work, p = st.params;
    for (let i = 0; i < V; i++) w[i] = logits[offset + i];
    if (p.logprobs !== null) logSoftmaxRow(w, this.logp);
    applyPenalties(w, st);
    const token = p.temperature < GREEDY_EPS ? argmax(w) : this.draw(st);
    if (p.logprobs === null) return { token, logprob: null, top: null };
    return { token, logprob: this.logp[token], top: topN(this.logp, p.logprobs) };
  }

  private draw(st: SequenceSamplingState): number {
    const V = this.vocabSize, w = this.work, p = st.params;
    for (let i = 0; i < V; i++) w[i] /= p.temperature;
    if (p.top_k > 0 && p.top_k < V) this.topK(p.top_k);
    if (p.top_p < 1) this.topP(p.top_p);
    const max = maxOf(w);
    if (p.min_p > 0) {
      const floor = max + Math.log(p.min_p);     // p_i ≥ min_p · p_max  ⇔  l_i ≥ l_max + ln(min_p)
      for (let i = 0; i < V; i++) if (w[i] < floor) w[i] = -Infinity;
    }
    let z = 0;
    for (let i = 0; i < V; i++) z += Math.exp(w[i] - max);
    const u = st.rng.uniform() * z;
    let acc = 0, last = -1;
    for (let i = 0; i < V; i++) {
      if (w[i] === -Infinity) continue;
      acc += Math.exp(w[i] - max);
      last = i;
      if (acc > u) return i;
    }
    return last; // u landed in the rounding slack at the very end
  }

  /** Keeps exactly the k largest logits (ties at the threshold resolved by lowest id). */
  private topK(k: number): void {
    const w = this.work, s = this.sorted;
    s.set(w);
    s.sort();
    const thr = s[s.length - k];
    let above = 0;
    for (let i = 0; i < w.length; i++) if (w[i] > thr) above++;
    let ties = k - above;
    for (let i = 0; i < w.length; i++) {
      if (w[i] < thr) w[i] = -Infinity;
      else if (w[i] === thr && ties-- <= 0) w[i] = -Infinity;
    }
  }

  /** Keeps the smallest set of most likely tokens whose probability sum reaches top_p. */
  private topP(topP: number): void {
    const w = this.work, s = this.sorted;
    const max = maxOf(w);
    let z = 0;
    for (let i = 0; i < w.length; i++) z += Math.exp(w[i] - max);
    s.set(w);
    s.sort();
    let cum = 0, thr = s[s.length - 1];
    for (let j = s.length - 1; j >= 0; j--) {
      thr = s[j];
      cum += Math.exp(s[j] - max) / z;
      if (cum >= topP) break;
    }
    for (let i = 0; i < w.length; i++) if (w[i] < thr) w[i] = -Infinity;
  }
}

function applyPenalties(w: Float32Array, st: SequenceSamplingState): void {
  const p = st.params;
  if (p.repetition_penalty !== 1) {
    for (const t of st.seen) w[t] = w[t] > 0 ? w[t] / p.repetition_penalty : w[t] * p.repetition_penalty;
  }
  if (p.presence_penalty !== 0 || p.frequency_penalty !== 0) {
    for (const [t, c] of st.outputCounts) w[t] -= p.frequency_penalty * c + p.presence_penalty;
  }
}

export function argmax(w: Float32Array): number {
  let best = 0;
  for (let i = 1; i < w.length; i++) if (w[i] > w[best]) best = i;
  return best;
}

function maxOf(w: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < w.length; i++) if (w[i] > m) m = w[i];
  return m;
}

function logSoftmaxRow(inp: Float32Array, out: Float32Array): void {
  const max = maxOf(inp);
  let z = 0;
  for (let i = 0; i < inp.length; i++) z += Math.exp(inp[i] - max);
  const lse = max + Math.log(z);
  for (let i = 0; i < inp.length; i++) out[i] = inp[i] - lse;
}

/** The n most likely ids, best first (ties by lowest id). */
export function topN(logp: Float32Array, n: number): TopLogprob[] {
  const top: TopLogprob[] = [];
  if (n === 0) return top;
  for (let i = 0; i < logp.length; i++) {
    if (top.length === n && logp[i] <= top[n - 1].logprob) continue;
    let j = top.length;
    while (j > 0 && top[j - 1].logprob < logp[i]) j--;
    top.splice(j, 0, { token_id: i, logprob: logp[i] });
    if (top.length > n) top.pop();
  }
  return top;
}
