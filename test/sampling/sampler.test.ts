// Sampler: greedy is argmax; top-k / top-p / min-p keep exactly the allowed set; the random
// stream depends only on (seed, request id, choice); penalties move the right logits.
import test from 'ava';
import { resolveSamplingParams, type SamplingParams } from '../../src/sampling/params.js';
import { RequestRng } from '../../src/sampling/rng.js';
import { Sampler, type SequenceSamplingState } from '../../src/sampling/sampler.js';

const V = 10;
// distinct logits; softmax probabilities (descending): ids 3, 7, 1, 9, 0, ...
const LOGITS = Float32Array.from([0.5, 2.0, -1.0, 4.0, -3.0, 0.1, -0.5, 3.0, -2.0, 1.0]);

function state(p: Partial<SamplingParams>, id = 'r', choice = 0, seen: number[] = []): SequenceSamplingState {
  const params = resolveSamplingParams(p as Record<string, unknown>, V);
  return { params, rng: new RequestRng(params.seed ?? 0, id, choice), seen: new Set(seen), outputCounts: new Map() };
}

function drawSet(p: Partial<SamplingParams>, draws = 2000): Set<number> {
  const s = new Sampler(V), st = state(p), got = new Set<number>();
  for (let i = 0; i < draws; i++) got.add(s.sample(LOGITS, 0, st).token);
  return got;
}

const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);

test('temperature 0 is argmax', (t) => {
  t.is(new Sampler(V).sample(LOGITS, 0, state({ temperature: 0 })).token, 3);
});

test('top_k keeps exactly the k most likely tokens', (t) => {
  t.deepEqual(sorted(drawSet({ top_k: 3, temperature: 2 })), [1, 3, 7]);
  t.deepEqual(sorted(drawSet({ top_k: 1 })), [3]);
});

test('top_p keeps the smallest set reaching p', (t) => {
  // p(3) ≈ 0.628, p(7) ≈ 0.231, p(1) ≈ 0.085: 0.628 < 0.8 ≤ 0.859, so {3, 7}
  t.deepEqual(sorted(drawSet({ top_p: 0.8 })), [3, 7]);
  t.deepEqual(sorted(drawSet({ top_p: 0.5 })), [3]);
});

test('min_p drops tokens below min_p · p_max', (t) => {
  // p(1)/p(3) = e^-2 ≈ 0.135, p(9)/p(3) = e^-3 ≈ 0.05
  t.deepEqual(sorted(drawSet({ min_p: 0.1 })), [1, 3, 7]);
});

test('the same seed gives the same draws, other seeds or request ids differ', (t) => {
  const run = (seed: number, id: string, choice = 0) => {
    const s = new Sampler(V), st = state({ seed, temperature: 1.5 }, id, choice);
    return Array.from({ length: 40 }, () => s.sample(LOGITS, 0, st).token).join(',');
  };
  t.is(run(7, 'a'), run(7, 'a'));
  t.not(run(7, 'a'), run(8, 'a'));
  t.not(run(7, 'a'), run(7, 'b'));
  t.not(run(7, 'a'), run(7, 'a', 1));
});

test('sampling frequencies follow the softmax', (t) => {
  const s = new Sampler(V), st = state({ seed: 1 });
  const counts = new Array(V).fill(0);
  const N = 20000;
  for (let i = 0; i < N; i++) counts[s.sample(LOGITS, 0, st).token]++;
  const z = Array.from(LOGITS).reduce((a, l) => a + Math.exp(l), 0);
  for (let v = 0; v < V; v++) {
    const p = Math.exp(LOGITS[v]) / z, sd = Math.sqrt((p * (1 - p)) / N);
    t.true(Math.abs(counts[v] / N - p) < 5 * sd + 1e-4, `token ${v}: ${counts[v] / N} vs ${p}`);
  }
});

test('repetition penalty divides positive and multiplies negative logits of seen tokens', (t) => {
  // 3 (4.0 → 1.0) falls below 7 (3.0) and 1 (2.0): greedy picks 7
  t.is(new Sampler(V).sample(LOGITS, 0, state({ temperature: 0, repetition_penalty: 4 }, 'r', 0, [3])).token, 7);
});

test('presence and frequency penalties subtract per generated occurrence', (t) => {
  const st = state({ temperature: 0, frequency_penalty: 0.6, presence_penalty: 0.5 });
  st.outputCounts.set(3, 2); // 4.0 - 2·0.6 - 0.5 = 2.3 < 3.0
  t.is(new Sampler(V).sample(LOGITS, 0, st).token, 7);
});

test('logprobs are the raw log-softmax, top-N best first, plus the sampled token', (t) => {
  const r = new Sampler(V).sample(LOGITS, 0, state({ temperature: 0, logprobs: 3, repetition_penalty: 4 }, 'r', 0, [3]));
  const lse = Math.log(Array.from(LOGITS).reduce((a, l) => a + Math.exp(l), 0));
  t.is(r.token, 7);
  t.true(Math.abs(r.logprob! - (3.0 - lse)) < 1e-6);
  t.deepEqual(r.top!.map((x) => x.token_id), [3, 7, 1]);
  t.true(Math.abs(r.top![0].logprob - (4.0 - lse)) < 1e-6);
});

test('a row is read at its offset inside a batch of logits', (t) => {
  const batch = new Float32Array(3 * V);
  batch.set(LOGITS, 2 * V);
  t.is(new Sampler(V).sample(batch, 2 * V, state({ temperature: 0 })).token, 3);
});

// The dense recipe written out plainly (sharing no code with the sampler): divide by T in f32,
// keep the k best (ties: lower id), min-p floor, exp(l - max) over every id in id order (Σ in f64,
// each term stored as f32), cumulative draw. The sampler's sparse top-k path must pick the same
// token for every draw of the same random stream.
function naiveTopK(logits: Float32Array, T: number, k: number, minP: number, u01: number): number {
  const V = logits.length, w = Float32Array.from(logits, (l) => l / T);
  const kept = new Set([...Array(V).keys()].sort((a, b) => w[b] - w[a] || a - b).slice(0, k));
  let max = -Infinity;
  for (const i of kept) max = Math.max(max, w[i]);
  const floor = minP > 0 ? max + Math.log(minP) : -Infinity;
  const e = new Float32Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) {
    const x = kept.has(i) && w[i] >= floor ? Math.exp(w[i] - max) : 0;
    e[i] = x;
    z += x;
  }
  const u = u01 * z;
  let acc = 0, last = -1;
  for (let i = 0; i < V; i++) {
    if (e[i] === 0) continue;
    acc += e[i];
    last = i;
    if (acc > u) return i;
  }
  return last;
}

test('top_k draws equal the dense recipe token for token (V = 3000, with ties and min_p)', (t) => {
  const V = 3000;
  let s = 99;
  const logits = Float32Array.from({ length: V }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return ((s >>> 8) % 2000) / 200 - 5; });
  for (const [k, T, minP, seed] of [[40, 0.8, 0, 1], [40, 1.3, 0.05, 2], [1, 1, 0, 3], [500, 0.5, 0, 4], [2999, 1, 0.2, 5]] as const) {
    const sampler = new Sampler(V), params = resolveSamplingParams({ top_k: k, temperature: T, min_p: minP, seed }, V);
    const st: SequenceSamplingState = { params, rng: new RequestRng(seed, 'x', 0), seen: new Set(), outputCounts: new Map() };
    const ref = new RequestRng(seed, 'x', 0);
    for (let d = 0; d < 200; d++) {
      const got = sampler.sample(logits, 0, st).token, want = naiveTopK(logits, T, k, minP, ref.uniform());
      if (got !== want) return t.fail(`k ${k} T ${T} min_p ${minP}: draw ${d} gave ${got}, dense recipe ${want}`);
    }
  }
  t.pass();
});

// The sampler ranks the k + 8 best logits before dividing by T, and falls back to dividing all of
// them when that could differ: rows where division makes neighbours equal, and rows of ties.
test('top_k before the temperature division equals the dense recipe (rounding collisions, all ties)', (t) => {
  const V = 3000;
  const adjacent = new Float32Array(V); // consecutive f32 values from 1.9: x / 1.5 (still in [1, 2)) rounds pairs together
  adjacent[0] = 1.9;
  const bits = new Uint32Array(adjacent.buffer);
  for (let i = 1; i < V; i++) bits[i] = bits[i - 1] + 1;
  const rows: Array<[string, Float32Array]> = [['adjacent floats', adjacent], ['all equal', new Float32Array(V).fill(0.25)]];
  for (const [name, logits] of rows) {
    for (const [k, T, minP, seed] of [[40, 1.5, 0, 11], [7, 1.5, 0.5, 12], [40, 0.7, 0, 13]] as const) {
      const sampler = new Sampler(V), params = resolveSamplingParams({ top_k: k, temperature: T, min_p: minP, seed }, V);
      const st: SequenceSamplingState = { params, rng: new RequestRng(seed, 'y', 0), seen: new Set(), outputCounts: new Map() };
      const ref = new RequestRng(seed, 'y', 0);
      for (let d = 0; d < 100; d++) {
        const got = sampler.sample(logits, 0, st).token, want = naiveTopK(logits, T, k, minP, ref.uniform());
        if (got !== want) return t.fail(`${name}, k ${k} T ${T}: draw ${d} gave ${got}, dense recipe ${want}`);
      }
    }
  }
  t.pass();
});
