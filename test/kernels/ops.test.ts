// Every op on every backend against naive f64 implementations written here (sharing no code
// with src/kernels): random inputs and edge cases (large magnitudes, single token, widths that
// are not a multiple of any vector width). Tolerance: max|Δ|/max|ref| ≤ 1e-5 unless stated.
import test from 'ava';
import { forEachBackend } from '../helpers/backends.js';
import { backendStatus, registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { assertClose } from '../helpers/assert-close.js';
import { naive, rand, randInt } from '../helpers/naive-ops.js';

const TOL = 1e-5;
// [7, 520, 300], [40, 600, 300]: several k- and column blocks of a packed GEMM (both block shapes
// of the native backend: ≤ 32 rows and more), with a partial last panel
const SHAPES: Array<[number, number, number]> = [[1, 1, 1], [1, 768, 2304], [3, 33, 17], [8, 64, 97], [5, 130, 7], [7, 520, 300], [40, 600, 300]];

forEachBackend('matmul + bias matches the naive product', (t, k) => {
  for (const [n, I, O] of SHAPES) {
    const x = rand(n * I, 1, 1), w = rand(I * O, 2, 0.2), b = rand(O, 3, 0.5), out = new Float32Array(n * O);
    k.matmul(out, x, w, b, n, I, O);
    assertClose(t, out, naive.matmul(x, w, b, n, I, O), TOL, `matmul ${n}x${I}x${O}`);
  }
});

forEachBackend('matmul without bias (null) matches the naive product, whole and on a column shard', (t, k) => {
  for (const [n, I, O] of [[1, 768, 2304], [3, 33, 17], [40, 600, 300]]) {
    const x = rand(n * I, 19, 1), w = rand(I * O, 20, 0.2), out = new Float32Array(n * O).fill(5);
    k.matmul(out, x, w, null, n, I, O);
    assertClose(t, out, naive.matmul(x, w, null, n, I, O), TOL, `matmul ${n}x${I}x${O} no bias`);
    const j0 = 3, j1 = O - 1, shard = new Float32Array(I * (j1 - j0)), part = new Float32Array(n * O).fill(-7);
    for (let i = 0; i < I; i++) shard.set(w.subarray(i * O + j0, i * O + j1), i * (j1 - j0));
    k.matmul(part, x, shard, null, n, I, O, j0, j1);
    for (let r = 0; r < n; r++) {
      t.deepEqual(Array.from(part.slice(r * O + j0, r * O + j1)), Array.from(out.slice(r * O + j0, r * O + j1)), `no bias [${j0}, ${j1}) row ${r}`);
    }
  }
});

forEachBackend('matmul rows do not depend on how many rows share the call', (t, k) => {
  for (const [n, I, O] of [[9, 96, 67], [13, 300, 270], [40, 600, 300]]) {  // one block; several; > 32 rows
    const x = rand(n * I, 4, 1), w = rand(I * O, 5, 0.3), b = rand(O, 6, 0.1);
    const all = new Float32Array(n * O);
    k.matmul(all, x, w, b, n, I, O);
    for (let r = 0; r < n; r++) {
      const one = new Float32Array(O);
      k.matmul(one, x.slice(r * I, (r + 1) * I), w, b, 1, I, O);
      t.deepEqual(Array.from(one), Array.from(all.slice(r * O, (r + 1) * O)), `${n}x${I}x${O} row ${r}`);
    }
  }
});

// Tensor-parallel ranks each compute a column range: every range must give exactly the bytes of
// the full call, write nothing outside it, and split points need not fall on any vector width.
forEachBackend('matmul on a column shard equals those columns of the full call exactly, and writes only them', (t, k) => {
  for (const [n, I, O] of [[3, 33, 17], [9, 96, 67], [40, 600, 300]]) {
    const x = rand(n * I, 16, 1), w = rand(I * O, 17, 0.3), b = rand(O, 18, 0.1);
    const full = new Float32Array(n * O);
    k.matmul(full, x, w, b, n, I, O);
    for (const [j0, j1] of [[0, Math.floor(O / 2)], [Math.floor(O / 2), O], [5, Math.min(O, 5 + 16)], [7, O - 3], [O, O]]) {
      const shard = new Float32Array(I * (j1 - j0)); // columns [j0, j1) of w, contiguous
      for (let i = 0; i < I; i++) shard.set(w.subarray(i * O + j0, i * O + j1), i * (j1 - j0));
      const part = new Float32Array(n * O).fill(-7);
      k.matmul(part, x, shard, b, n, I, O, j0, j1);
      for (let r = 0; r < n; r++) {
        const row = part.slice(r * O, (r + 1) * O);
        t.deepEqual(Array.from(row.slice(j0, j1)), Array.from(full.slice(r * O + j0, r * O + j1)), `${n}x${I}x${O} [${j0}, ${j1}) row ${r}`);
        t.true([...row.slice(0, j0), ...row.slice(j1)].every((v) => v === -7), `${n}x${I}x${O} [${j0}, ${j1}) row ${r}: wrote outside the range`);
      }
    }
  }
});

forEachBackend('layernorm matches, including large magnitudes', (t, k) => {
  for (const [n, C, scale] of [[1, 1, 1], [4, 768, 1], [3, 33, 1e4], [2, 50, 1e-3]] as const) {
    const x = rand(n * C, 7, scale), w = rand(C, 8, 1), b = rand(C, 9, 1), out = new Float32Array(n * C);
    k.layernorm(out, x, w, b, n, C, 1e-5);
    assertClose(t, out, naive.layernorm(x, w, b, n, C, 1e-5), 1e-4, `layernorm ${n}x${C} scale ${scale}`);
  }
});

forEachBackend('gelu and residual match elementwise', (t, k) => {
  const x = rand(1001, 10, 4), y = rand(1001, 11, 4), out = new Float32Array(1001);
  k.gelu(out, x, 1001);
  assertClose(t, out, naive.gelu(x), TOL, 'gelu');
  k.residual(out, x, y, 1001);
  assertClose(t, out, x.map((v, i) => v + y[i]), TOL, 'residual');
});

// A tensor-parallel rank applies gelu / the residual add to its columns of each row only
// (forward.ts): those columns get the whole call's bits, the others keep what they held.
forEachBackend('gelu and residual on a column range of each row: the whole call\'s bits there, every other value untouched', (t, k) => {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
  for (const [n, W, j0, j1] of [[3, 40, 8, 24], [5, 33, 0, 7], [2, 768, 380, 768], [4, 17, 17, 17], [1, 9, 0, 9]]) {
    const len = n * W, x = rand(len, 30 + W, 4), y = rand(len, 31 + W, 4);
    const whole = { gelu: new Float32Array(len), residual: new Float32Array(len) };
    k.gelu(whole.gelu, x, len);
    k.residual(whole.residual, x, y, len);
    const part = { gelu: new Float32Array(len).fill(-7), residual: new Float32Array(len).fill(-7) };
    k.gelu(part.gelu, x, len, W, j0, j1);
    k.residual(part.residual, x, y, len, W, j0, j1);
    for (const op of ['gelu', 'residual'] as const) {
      const want = Float32Array.from(whole[op], (v, i) => (i % W >= j0 && i % W < j1 ? v : -7));
      t.deepEqual(bits(part[op]), bits(want), `${op} ${n}x${W} [${j0}, ${j1})`);
    }
    const inPlace = x.slice(); // out aliasing the input, as forward.ts calls them
    k.residual(inPlace, inPlace, y, len, W, j0, j1);
    t.deepEqual(bits(inPlace), bits(Float32Array.from(x, (v, i) => (i % W >= j0 && i % W < j1 ? whole.residual[i] : v))), `residual in place ${n}x${W}`);
  }
});

test('native gelu / residual refuse a W that does not cut len into rows, and a column range past W, naming the argument', (t) => {
  registerAllKernels();
  if (!backendStatus().find((b) => b.name === 'native')?.available) { t.pass('native backend unavailable'); return; }
  const k = kernelSet('native'), x = new Float32Array(12);
  t.throws(() => k.gelu(x, x, 12, 5, 0, 5), { instanceOf: TypeError, message: /gelu: W must divide len into whole rows, got W = 5, len = 12/ });
  t.throws(() => k.residual(x, x, x, 12, 4, 2, 5), { instanceOf: TypeError, message: /residual: j0, j1 must satisfy 0 <= lo <= hi <= 4, got 2, 5/ });
  t.throws(() => k.residual(x, x, x, 12, 0), { instanceOf: TypeError, message: /W must divide len/ });
});

forEachBackend('embedding adds token and position rows (or copies token rows when wpe is null)', (t, k) => {
  const V = 50, P = 20, C = 13, n = 6, wte = rand(V * C, 12, 1), wpe = rand(P * C, 13, 1);
  const tokens = randInt(n, 14, V), positions = randInt(n, 15, P), out = new Float32Array(n * C);
  k.embedding(out, tokens, positions, wte, wpe, n, C);
  assertClose(t, out, naive.embedding(tokens, positions, wte, wpe, C), TOL, 'embedding');
  k.embedding(out, tokens, positions, wte, null, n, C); // no learned positions (Llama)
  assertClose(t, out, naive.embedding(tokens, positions, wte, null, C), 0, 'embedding, wpe null');
});

forEachBackend('attention over a paged cache matches dense causal attention', (t, k) => {
  // two sequences with scrambled block tables; rows of both interleaved in one batch
  const C = 24, nHead = 3, bs = 4, maxB = 5, nBlocks = 12;
  const lens = [11, 7];
  const table = Int32Array.from([3, 9, 0, 6, -1, 11, 2, -1, -1, -1]);
  const kCache = new Float32Array(nBlocks * bs * C), vCache = new Float32Array(nBlocks * bs * C);
  const keys = lens.map((L, s) => rand(L * C, 20 + s, 1)), vals = lens.map((L, s) => rand(L * C, 30 + s, 1));
  lens.forEach((L, s) => {
    for (let p = 0; p < L; p++) {
      const slot = table[s * maxB + Math.floor(p / bs)] * bs + (p % bs);
      kCache.set(keys[s].subarray(p * C, (p + 1) * C), slot * C);
      vCache.set(vals[s].subarray(p * C, (p + 1) * C), slot * C);
    }
  });
  const rows: Array<[number, number]> = [[0, 10], [1, 0], [0, 0], [1, 6], [0, 5]];
  const qkv = rand(rows.length * 3 * C, 40, 2), out = new Float32Array(rows.length * C);
  k.attention({
    out, qkv, kCache, vCache, seqIds: Int32Array.from(rows.map((r) => r[0])), positions: Int32Array.from(rows.map((r) => r[1])),
    blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n: rows.length, nHead, nKvHead: nHead, headDim: C / nHead, window: 0, scratch: new Float32Array(64),
  });
  rows.forEach(([s, p], r) => {
    const q = qkv.slice(r * 3 * C, r * 3 * C + C);
    assertClose(t, out.slice(r * C, (r + 1) * C), naive.attentionRow(q, keys[s], vals[s], p, nHead, C), 1e-5, `row ${r}`);
  });
});

forEachBackend('kvWrite puts k and v of each row into its slot', (t, k) => {
  const C = 10, n = 3, qkv = rand(n * 3 * C, 50, 1), kc = new Float32Array(8 * C), vc = new Float32Array(8 * C);
  const slots = Int32Array.from([5, 0, 7]);
  k.kvWrite(qkv, kc, vc, slots, n, C, C);
  for (let r = 0; r < n; r++) {
    t.deepEqual(Array.from(kc.slice(slots[r] * C, (slots[r] + 1) * C)), Array.from(qkv.slice(r * 3 * C + C, r * 3 * C + 2 * C)));
    t.deepEqual(Array.from(vc.slice(slots[r] * C, (slots[r] + 1) * C)), Array.from(qkv.slice(r * 3 * C + 2 * C, r * 3 * C + 3 * C)));
  }
});

forEachBackend('kvWrite and attention on a channel/head range touch only that range, bit-exactly', (t, k) => {
  const C = 24, nHead = 3, D = 8, bs = 4, maxB = 3, n = 4;
  const table = Int32Array.from([2, 0, 1, 5, 4, 3]);
  const seqIds = Int32Array.from([0, 1, 0, 1]), positions = Int32Array.from([0, 2, 1, 3]);
  const slots = Int32Array.from(Array.from(positions, (p, r) => table[seqIds[r] * maxB] * bs + p));
  const qkv = rand(n * 3 * C, 51, 1);
  const run = (h0?: number, h1?: number) => {
    const kc = new Float32Array(6 * bs * C).fill(-3), vc = new Float32Array(6 * bs * C).fill(-3), out = new Float32Array(n * C).fill(-7);
    for (let r = 0; r < n; r++) {  // rows 1 and 3 attend to earlier positions: fill them (all channels)
      for (let p = 0; p < positions[r]; p++) {
        const s = table[seqIds[r] * maxB] * bs + p;
        kc.set(rand(C, 100 + 10 * r + p, 1), s * C);
        vc.set(rand(C, 200 + 10 * r + p, 1), s * C);
      }
    }
    const before = kc.slice();
    if (h0 === undefined || h1 === undefined) k.kvWrite(qkv, kc, vc, slots, n, C, C);
    else k.kvWrite(qkv, kc, vc, slots, n, C, C, h0 * D, h1 * D);
    k.attention({ out, qkv, kCache: kc, vCache: vc, seqIds, positions, blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n, nHead,
      nKvHead: nHead, headDim: D, window: 0, scratch: new Float32Array(8), h0, h1 });
    return { kc, before, out };
  };
  const full = run();
  for (const [h0, h1] of [[0, 1], [1, 3], [2, 3]]) {
    const part = run(h0, h1);
    for (let r = 0; r < n; r++) {
      const o = part.out.slice(r * C, (r + 1) * C), f = full.out.slice(r * C, (r + 1) * C);
      t.deepEqual(Array.from(o.slice(h0 * D, h1 * D)), Array.from(f.slice(h0 * D, h1 * D)), `heads [${h0}, ${h1}) row ${r}`);
      t.true([...o.slice(0, h0 * D), ...o.slice(h1 * D)].every((v) => v === -7), `heads [${h0}, ${h1}) row ${r}: wrote other heads`);
      const kr = part.kc.slice(slots[r] * C, (slots[r] + 1) * C), kb = part.before.slice(slots[r] * C, (slots[r] + 1) * C);
      t.deepEqual(Array.from(kr.slice(h0 * D, h1 * D)), Array.from(qkv.slice(r * 3 * C + C + h0 * D, r * 3 * C + C + h1 * D)), `kvWrite row ${r}`);
      t.true(kr.every((v, c) => (c >= h0 * D && c < h1 * D) || v === kb[c]), `kvWrite [${h0 * D}, ${h1 * D}) row ${r}: wrote other channels`);
    }
  }
});

forEachBackend('lmHead matches the naive tied head', (t, k) => {
  for (const [m, C, V] of [[1, 768, 1000], [3, 37, 501], [4, 64, 50257]] as const) {
    const x = rand(m * C, 60, 1), wte = rand(V * C, 61, 0.1), out = new Float32Array(m * V);
    k.lmHead(out, x, wte, m, C, V);
    assertClose(t, out, naive.lmHead(x, wte, m, C, V), TOL, `lmHead ${m}x${C}x${V}`);
  }
  // rows [v0, v0 + Vs) of the head into columns [v0, v0 + Vs) of wider rows (row stride V, one
  // vocabulary piece written in place): the full call's bytes there, nothing written outside
  const m = 5, C = 40, V = 333, v0 = 101, Vs = 77, x = rand(m * C, 62, 1), wte = rand(V * C, 63, 0.1);
  const full = new Float32Array(m * V), piece = new Float32Array(m * V).fill(-7);
  k.lmHead(full, x, wte, m, C, V);
  k.lmHead(piece.subarray(v0), x, wte.subarray(v0 * C, (v0 + Vs) * C), m, C, Vs, V);
  for (let r = 0; r < m; r++) {
    for (let v = 0; v < V; v++) {
      const want = v >= v0 && v < v0 + Vs ? full[r * V + v] : -7;
      if (piece[r * V + v] !== want) { t.fail(`lmHead piece [${v0}, ${v0 + Vs}) row ${r} column ${v}: ${piece[r * V + v]}, want ${want}`); return; }
    }
  }
  t.pass();
});

forEachBackend('logSoftmax handles [-1000, 1000] and a single column', (t, k) => {
  const x = Float32Array.from([-1000, 1000, 0, 999.5, 3, -2]);
  const out = new Float32Array(6);
  k.logSoftmax(out, x, 2, 3);
  assertClose(t, out, naive.logSoftmax(x, 2, 3), 1e-6, 'logSoftmax');
  const one = new Float32Array(1);
  k.logSoftmax(one, Float32Array.from([42]), 1, 1);
  t.is(one[0], 0);
});

// The greedy fast path takes the head's rowArgmax instead of scanning the logits on the
// coordinator, so it must match the plain scan exactly, including ties, -Infinity and NaN.
forEachBackend('rowArgmax is the first index of the largest value (ties, -Infinity, NaN)', (t, k) => {
  const scan = (x: Float32Array): [number, number] => { // independent restatement: first max, NaN skipped, leading NaN wins
    if (Number.isNaN(x[0])) return [0, NaN];
    let at = 0;
    x.forEach((v, i) => { if (v > x[at]) at = i; });
    return [at, x[at]];
  };
  const V = 5003, rows: Float32Array[] = [];
  rows.push(rand(V, 70, 3));
  const tie = rand(V, 71, 1); tie[4100] = 9; tie[4101] = 9; tie[2047] = 9; tie[2049] = 9; rows.push(tie); // first of 4 ties, across chunks and lanes
  rows.push(new Float32Array(V).fill(-Infinity));
  const nan0 = rand(V, 72, 1); nan0[0] = NaN; nan0[10] = 50; rows.push(nan0);
  const nanMid = rand(V, 73, 1); for (const i of [1, 2, 3, 7, 8, 2048, 4999]) nanMid[i] = NaN; nanMid[4998] = 40; rows.push(nanMid);
  const last = rand(V, 74, 1); last[V - 1] = 30; rows.push(last);
  const m = rows.length, inp = new Float32Array(m * V);
  rows.forEach((r, i) => inp.set(r, i * V));
  const idx = new Int32Array(m), max = new Float32Array(m);
  k.rowArgmax(idx, max, inp, m, V);
  rows.forEach((r, i) => t.deepEqual([idx[i], max[i]], scan(r), `row ${i}`));
  t.deepEqual([idx[1], idx[3], idx[4], idx[5]], [2047, 0, 4998, V - 1]); // a leading NaN is never beaten
  // the same rows as a column range [v0, v0 + V) of wider rows (row stride ld), the rest poisoned
  const v0 = 13, ld = V + 40, wide = new Float32Array((m - 1) * ld + v0 + V).fill(1e30);
  rows.forEach((r, i) => wide.set(r, i * ld + v0));
  const sIdx = new Int32Array(m), sMax = new Float32Array(m);
  k.rowArgmax(sIdx, sMax, wide.subarray(v0), m, V, ld);
  rows.forEach((r, i) => t.deepEqual([sIdx[i], sMax[i]], scan(r), `row ${i}, row stride ${ld}`));
  for (const W of [1, 7, 9]) { // shorter than a vector, and one lane over
    const x = Float32Array.from({ length: W }, (_, i) => (i * 7) % 5);
    const one = new Int32Array(1), mx = new Float32Array(1);
    k.rowArgmax(one, mx, x, 1, W);
    t.deepEqual([one[0], mx[0]], scan(x), `V = ${W}`);
  }
});
