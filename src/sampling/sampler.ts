// Turns one row of logits into the next token. Order: grammar mask → penalties → greedy (argmax)
// or temperature → top-k → top-p → min-p → draw from the request's own RNG. Log-probs are those
// of the model's distribution before any processing but the grammar mask (vLLM v1 applies the
// bitmask to the logits before its sampler too): under a grammar they are renormalized over the
// tokens it allows.
// Scratch rows are allocated once per Sampler (size V), never per token.
import { GREEDY_EPS, type SamplingParams } from './params.js';
import type { RequestRng } from './rng.js';
import { applyTokenMask, maskedArgmax } from './token-mask.js';

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
  private readonly order: Int32Array;    // [V] candidate ids, best first (top-k / top-p)
  private readonly sorted: Float32Array; // [V] sorted logits for a wide top-p
  private readonly probs: Float32Array;  // [V] exp(l - max) of the row being drawn
  private readonly keep: Uint8Array;     // [V] mask of kept ids
  private readonly logp: Float32Array;   // [V] raw log-probs
  private sawNaN = false;                // the last largest() scan met a NaN

  constructor(readonly vocabSize: number) {
    this.work = new Float32Array(vocabSize);
    this.order = new Int32Array(vocabSize);
    this.keep = new Uint8Array(vocabSize);
    this.sorted = new Float32Array(vocabSize);
    this.probs = new Float32Array(vocabSize);
    this.logp = new Float32Array(vocabSize);
  }

  /** Greedy with nothing to report or adjust: the token is the row's argmax, nothing else is read. */
  static argmaxOnly(p: SamplingParams): boolean {
    return p.temperature < GREEDY_EPS && p.logprobs === null && !hasPenalties(p);
  }

  /**
   * Samples from logits[offset .. offset+V). `rowArgmax` ≥ 0 is the row's argmax already found
   * (by the head's rowArgmax kernel), used when argmaxOnly(params). The token is -1 when nothing
   * can be drawn (every logit -Infinity, or NaN where it decides): the caller fails the request.
   * `mask` (a grammar's next-token bitmask) bans the ids whose bit is 0.
   */
  sample(logits: Float32Array, offset: number, st: SequenceSamplingState, rowArgmax = -1, mask: Int32Array | null = null): SampledToken {
    const V = this.vocabSize, w = this.work, p = st.params;
    const greedy = p.temperature < GREEDY_EPS;
    if (Sampler.argmaxOnly(p)) {
      // under a mask the row's argmax still serves when allowed: it is the first of the largest
      // values overall, so also among the allowed ids (most steps: the row is not read at all)
      const headOk = rowArgmax >= 0 && (mask === null || ((mask[rowArgmax >> 5] >>> (rowArgmax & 31)) & 1) === 1);
      const token = headOk ? rowArgmax
        : mask !== null ? maskedArgmax(logits, offset, V, mask) : argmax(logits.subarray(offset, offset + V)); // no copy
      return { token, logprob: null, top: null };
    }
    w.set(logits.subarray(offset, offset + V)); // a memcpy: 4× faster than an element loop on a shared buffer
    if (mask !== null) applyTokenMask(w, mask);
    if (p.logprobs !== null) logSoftmaxRow(w, this.logp);
    applyPenalties(w, st);
    const token = greedy ? argmax(w) : this.draw(st);
    if (p.logprobs === null) return { token, logprob: null, top: null };
    return { token, logprob: this.logp[token], top: topN(this.logp, p.logprobs) };
  }

  private draw(st: SequenceSamplingState): number {
    const V = this.vocabSize, w = this.work, p = st.params;
    const topKOnly = p.top_k > 0 && p.top_k < V && p.top_p >= 1;
    if (topKOnly) {
      const n = this.topKBeforeTemperature(p.top_k, p.temperature);
      if (n >= 0) return this.drawKept(n, st);
    }
    for (let i = 0; i < V; i++) w[i] /= p.temperature;
    if (topKOnly) return this.drawTopK(st);
    if (p.top_k > 0 && p.top_k < V) this.topK(p.top_k);
    if (p.top_p < 1) this.topP(p.top_p);
    const max = maxOf(w);
    if (p.min_p > 0) {
      const floor = max + Math.log(p.min_p);     // p_i ≥ min_p · p_max  ⇔  l_i ≥ l_max + ln(min_p)
      for (let i = 0; i < V; i++) if (w[i] < floor) w[i] = -Infinity;
    }
    const e = this.probs;
    let z = 0;
    for (let i = 0; i < V; i++) z += e[i] = Math.exp(w[i] - max); // exp(-Infinity) = 0 for masked ids
    if (!(z > 0)) return -1; // every id masked, or NaN in the row: nothing can be drawn
    return pick(e, V, st.rng.uniform() * z);
  }

  /**
   * top-k without top-p: only the k kept ids can be drawn, so min-p, the exponentials and the
   * draw run over those k alone (not all V: ~2.5 → ~0.4 ms per GPT-2 row), in increasing id
   * order with the same float operations as the dense path, hence the same token for the same u.
   */
  private drawTopK(st: SequenceSamplingState): number {
    return this.drawKept(this.largest(st.params.top_k), st);
  }

  /**
   * The k best ids after the division by T, found before it: the k + 8 best logits, divided (as
   * the dense loop divides, rounding to f32), re-ranked. Dividing is monotone, so an id outside
   * those k + 8 has a divided value ≤ that of the worst of them; if the k-th best divided value
   * is strictly above that, the k best are exactly these, and only k + 8 divisions were done
   * instead of V (the division pass was half the default job's sampling time). Otherwise, or if
   * the row holds NaN, returns -1 and w is untouched: the dense path runs. On success the k ids
   * are in this.order (best first) and their divided values in w, as drawTopK leaves them.
   */
  private topKBeforeTemperature(k: number, T: number): number {
    const w = this.work, ids = this.order, V = w.length, want = Math.min(V, k + 8);
    const n = this.largest(want);
    if (this.sawNaN) return -1;
    const d = this.sorted; // d[id]: the candidate's divided logit (this scratch is topP's, unused here)
    for (let j = 0; j < n; j++) d[ids[j]] = w[ids[j]] / T; // rounded to f32 on store, as `w[i] /= T` is
    const ranked = Array.from(ids.subarray(0, n)).sort((a, b) => d[b] - d[a] || a - b);
    const kept = Math.min(k, n);
    // n < want: every finite logit is a candidate, and the rest are -Infinity either way
    if (n === want && kept < n && !(d[ranked[kept - 1]] > d[ids[n - 1]])) return -1;
    for (let j = 0; j < kept; j++) {
      ids[j] = ranked[j];
      w[ranked[j]] = d[ranked[j]];
    }
    return kept;
  }

  /** Draws among the ids in this.order[0..n) (their divided logits in w): min-p, exp, cumulative pick. */
  private drawKept(n: number, st: SequenceSamplingState): number {
    const w = this.work, p = st.params, ids = this.order, e = this.probs;
    ids.subarray(0, n).sort(); // ascending ids, as the dense loop visits them
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (w[ids[j]] > max) max = w[ids[j]];
    const floor = p.min_p > 0 ? max + Math.log(p.min_p) : -Infinity;
    let z = 0;
    for (let j = 0; j < n; j++) z += e[j] = w[ids[j]] < floor ? 0 : Math.exp(w[ids[j]] - max);
    const j = pick(e, n, st.rng.uniform() * z);
    return j < 0 ? j : ids[j];
  }

  /** Keeps exactly the k largest logits (ties resolved by lowest id). */
  private topK(k: number): void {
    const n = this.largest(k);
    this.keepOnly(n);
  }

  /** Keeps the smallest set of most likely tokens whose probability sum reaches top_p. */
  private topP(topP: number): void {
    const w = this.work, max = maxOf(w);
    let z = 0;
    for (let i = 0; i < w.length; i++) z += Math.exp(w[i] - max);
    // the nucleus is usually small: look among the 256 most likely first
    const n = this.largest(Math.min(256, w.length));
    let cum = 0;
    for (let j = 0; j < n; j++) {
      cum += Math.exp(w[this.order[j]] - max) / z;
      if (cum >= topP) return this.keepOnly(j + 1);
    }
    // a flat distribution: find the threshold logit on a natively sorted copy instead
    const s = this.sorted;
    s.set(w);
    s.sort();
    let thr = s[s.length - 1];
    cum = 0;
    for (let j = s.length - 1; j >= 0 && cum < topP; j--) {
      thr = s[j];
      cum += Math.exp(s[j] - max) / z;
    }
    for (let i = 0; i < w.length; i++) if (w[i] < thr) w[i] = -Infinity;
  }

  /**
   * Puts the ids of the k largest finite logits, best first (ties: lowest id first), in
   * this.order[0..count) and returns count. A size-k min-heap keeps this O(V log k).
   */
  private largest(k: number): number {
    const w = this.work, h = this.order;
    // "a below b": smaller logit, or same logit and larger id (so lower ids are kept)
    const below = (a: number, b: number) => w[a] < w[b] || (w[a] === w[b] && a > b);
    let size = 0, minV = NaN; // minV = w[h[0]] once the heap is full
    this.sawNaN = false;
    for (let i = 0; i < w.length; i++) {
      const v = w[i];
      if (v === -Infinity) continue;
      if (v !== v) this.sawNaN = true;
      if (size < k) {
        let c = size++;
        h[c] = i;
        while (c > 0) { const p = (c - 1) >> 1; if (!below(h[c], h[p])) break; [h[c], h[p]] = [h[p], h[c]]; c = p; }
        if (size === k) minV = w[h[0]];
      } else if (v > minV) { // = below(h[0], i): every id in the heap is < i, so a tie never wins
        h[0] = i;
        for (let c = 0; ;) {
          const l = 2 * c + 1, r = l + 1;
          let m = c;
          if (l < size && below(h[l], h[m])) m = l;
          if (r < size && below(h[r], h[m])) m = r;
          if (m === c) break;
          [h[c], h[m]] = [h[m], h[c]];
          c = m;
        }
        minV = w[h[0]];
      }
    }
    const best = Array.from(h.subarray(0, size)).sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
    h.set(best);
    return size;
  }

  /** Masks every id except this.order[0..n). */
  private keepOnly(n: number): void {
    const keep = this.keep;
    keep.fill(0);
    for (let j = 0; j < n; j++) keep[this.order[j]] = 1;
    for (let i = 0; i < this.work.length; i++) if (!keep[i]) this.work[i] = -Infinity;
  }
}

function hasPenalties(p: SamplingParams): boolean {
  return p.repetition_penalty !== 1 || p.presence_penalty !== 0 || p.frequency_penalty !== 0;
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

/**
 * The cumulative draw: the first j in [0, n) with e[j] > 0 where e[0] + … + e[j] > u; the last
 * such j if u lands in the rounding slack at the very end; -1 if every e[j] is 0.
 */
function pick(e: Float32Array, n: number, u: number): number {
  let acc = 0, last = -1;
  for (let j = 0; j < n; j++) {
    if (e[j] === 0) continue;
    acc += e[j];
    last = j;
    if (acc > u) return j;
  }
  return last;
}

/** Index of the largest value (the first one on ties); -1 when every value is -Infinity or the row starts with NaN (a broken model). */
export function argmax(w: Float32Array): number {
  let best = 0, bv = w[0]; // the best value in a local: 4× faster than re-reading w[best]
  for (let i = 1; i < w.length; i++) {
    const v = w[i];
    if (v > bv) { bv = v; best = i; }
  }
  return bv > -Infinity ? best : -1;
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

/** The n most likely ids, best first (ties by lowest id); never an id of probability 0 (one a grammar bans). */
export function topN(logp: Float32Array, n: number): TopLogprob[] {
  const top: TopLogprob[] = [];
  if (n === 0) return top;
  for (let i = 0; i < logp.length; i++) {
    if (logp[i] === -Infinity || (top.length === n && logp[i] <= top[n - 1].logprob)) continue;
    let j = top.length;
    while (j > 0 && top[j - 1].logprob < logp[i]) j--;
    top.splice(j, 0, { token_id: i, logprob: logp[i] });
    if (top.length > n) top.pop();
  }
  return top;
}
