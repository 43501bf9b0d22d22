// The Llama-family ops (rmsnorm, swiglu, rope, grouped-query / sliding-window attention) on every
// backend against the naive f64 versions in test/helpers/naive-ops.ts (no code shared with
// src/kernels), plus batch invariance (a row alone gives the bytes it gives in a batch) and range
// exactness (a head/column range writes exactly the full call's bytes there and nothing else).
// Tolerance: max|Δ|/max|ref| ≤ 1e-5 unless stated.
import test, { type ExecutionContext } from 'ava';
import type { RopeArgs } from '../../src/kernels/names.js';
import { nativeSimd, setNativeSimd } from '../../src/kernels/native/index.js';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { forEachBackend } from '../helpers/backends.js';
import { assertClose } from '../helpers/assert-close.js';
import { naive, rand } from '../helpers/naive-ops.js';

const TOL = 1e-5;
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** cos/sin tables [P, D/2] of HF's default rope (inv_freq = base^(−2i/D)), rounded to f32. */
function ropeTables(P: number, D: number, base: number): { cos: Float32Array; sin: Float32Array } {
  const h = D / 2, cos = new Float32Array(P * h), sin = new Float32Array(P * h);
  for (let p = 0; p < P; p++) for (let i = 0; i < h; i++) {
    cos[p * h + i] = Math.cos(p * base ** (-2 * i / D));
    sin[p * h + i] = Math.sin(p * base ** (-2 * i / D));
  }
  return { cos, sin };
}

forEachBackend('rmsnorm matches, including large magnitudes, widths off any vector width, in place', (t, k) => {
  for (const [n, C, scale] of [[1, 1, 1], [4, 768, 1], [3, 33, 1e4], [2, 50, 1e-3], [2, 4099, 3], [5, 13, 1e-20]] as const) {
    const x = rand(n * C, 80, scale), w = rand(C, 81, 1), out = new Float32Array(n * C);
    k.rmsnorm(out, x, w, n, C, 1e-6);
    assertClose(t, out, naive.rmsnorm(x, w, n, C, 1e-6), C > 1000 ? 1e-4 : TOL, `rmsnorm ${n}x${C} scale ${scale}`);
    const y = x.slice();
    k.rmsnorm(y, y, w, n, C, 1e-6);
    t.deepEqual(bits(y), bits(out), `rmsnorm ${n}x${C} in place`);
  }
});

forEachBackend('swiglu matches silu(gate) · up, including |gate| where e^-gate overflows', (t, k) => {
  for (const [n, I, scale] of [[1, 1, 1], [3, 37, 4], [2, 1000, 12]] as const) {
    const gu = rand(n * 2 * I, 82, scale), out = new Float32Array(n * I);
    const big = [1000, -1000, 100, -100, 88.8, -88.8, 87, -87, 0, -0, 1e30, -1e30];
    big.forEach((g, i) => { if (i < I) gu[(n - 1) * 2 * I + i] = g; });
    k.swiglu(out, gu, n, I);
    assertClose(t, out, naive.swiglu(gu, n, I), TOL, `swiglu ${n}x${I}`);
    t.false(out.some((v) => Number.isNaN(v)), `swiglu ${n}x${I}: NaN`);
  }
});

const ROPE_CASES: Array<[number, number, number, boolean]> = [[6, 2, 64, false], [6, 2, 64, true], [4, 1, 8, false], [4, 1, 8, true], [3, 3, 8, true], [2, 2, 64, false]];

function ropeArgs(NH: number, NKV: number, D: number, norm: boolean, n: number, seed: number): RopeArgs {
  const { cos, sin } = ropeTables(400, D, 10000);
  const positions = Int32Array.from({ length: n }, (_, r) => [0, 399, 17, 256, 3, 1, 128][r % 7]);
  return { qkv: rand(n * (NH + 2 * NKV) * D, seed, 2), positions, cos, sin, n, nHead: NH, nKvHead: NKV, headDim: D,
    qNorm: norm ? rand(D, seed + 1, 1.5) : null, kNorm: norm ? rand(D, seed + 2, 1.5) : null, eps: 1e-6 };
}

forEachBackend('rope rotates every q and k head (rotate_half), with and without the Qwen3 q/k norm, and leaves v alone', (t, k) => {
  for (const [NH, NKV, D, norm] of ROPE_CASES) {
    const a = ropeArgs(NH, NKV, D, norm, 5, 83), before = a.qkv.slice(), W = (NH + 2 * NKV) * D;
    k.rope(a);
    for (let r = 0; r < a.n; r++) {
      for (let h = 0; h < NH + NKV; h++) {
        const at = r * W + h * D, want = naive.ropeHead(before.subarray(at, at + D), a.positions[r], 10000, h < NH ? a.qNorm : a.kNorm, 1e-6);
        assertClose(t, a.qkv.subarray(at, at + D), want, TOL, `rope NH=${NH} NKV=${NKV} D=${D} norm=${norm} row ${r} ${h < NH ? 'q' : 'k'} head ${h}`);
      }
      const v0 = r * W + (NH + NKV) * D;
      t.deepEqual(bits(a.qkv.subarray(v0, v0 + NKV * D)), bits(before.subarray(v0, v0 + NKV * D)), `rope row ${r}: v changed`);
    }
  }
});

/** Two sequences (lengths 11 and 7) in a scrambled paged cache of NKV·D-wide rows, and five query rows. */
function gqaSetup(NH: number, NKV: number, D: number, window: number, seed: number) {
  const KV = NKV * D, W = (NH + 2 * NKV) * D, bs = 4, maxB = 5, nBlocks = 12, lens = [11, 7];
  const table = Int32Array.from([3, 9, 0, 6, -1, 11, 2, -1, -1, -1]);
  const kCache = new Float32Array(nBlocks * bs * KV), vCache = new Float32Array(nBlocks * bs * KV);
  const keys = lens.map((L, s) => rand(L * KV, seed + s, 1)), vals = lens.map((L, s) => rand(L * KV, seed + 10 + s, 1));
  lens.forEach((L, s) => {
    for (let p = 0; p < L; p++) {
      const slot = table[s * maxB + Math.floor(p / bs)] * bs + (p % bs);
      kCache.set(keys[s].subarray(p * KV, (p + 1) * KV), slot * KV);
      vCache.set(vals[s].subarray(p * KV, (p + 1) * KV), slot * KV);
    }
  });
  const rows: Array<[number, number]> = [[0, 10], [1, 0], [0, 0], [1, 6], [0, 5]], n = rows.length;
  const qkv = rand(n * W, seed + 20, 2);
  const args = (out: Float32Array, h0?: number, h1?: number) => ({
    out, qkv, kCache, vCache, seqIds: Int32Array.from(rows.map((r) => r[0])), positions: Int32Array.from(rows.map((r) => r[1])),
    blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n, nHead: NH, nKvHead: NKV, headDim: D, window, scratch: new Float32Array(16), h0, h1,
  });
  return { rows, keys, vals, qkv, W, args };
}

const GQA_CASES: Array<[number, number, number, number]> = [[6, 2, 8, 0], [6, 2, 8, 3], [4, 1, 64, 0], [4, 1, 64, 5], [3, 3, 8, 4], [2, 2, 64, 0]];

forEachBackend('grouped-query attention (and a sliding window) over a paged cache matches dense attention', (t, k) => {
  for (const [NH, NKV, D, window] of GQA_CASES) {
    const { rows, keys, vals, qkv, W, args } = gqaSetup(NH, NKV, D, window, 90);
    const out = new Float32Array(rows.length * NH * D);
    k.attention(args(out));
    rows.forEach(([s, p], r) => {
      const want = naive.gqaRow(qkv.slice(r * W, r * W + NH * D), keys[s], vals[s], p, NH, NKV, D, window);
      assertClose(t, out.slice(r * NH * D, (r + 1) * NH * D), want, TOL, `NH=${NH} NKV=${NKV} D=${D} window=${window} row ${r}`);
    });
  }
});

// Past one 64-key block of the native driver: a sequence of 300 in 16-slot blocks, reversed table.
forEachBackend('GQA attention over 300 positions (several key blocks) matches dense attention, with and without a window', (t, k) => {
  const NH = 8, NKV = 2, D = 64, KV = NKV * D, W = (NH + 2 * NKV) * D, bs = 16, L = 300, maxB = Math.ceil(L / bs);
  const table = Int32Array.from({ length: maxB }, (_, i) => maxB - 1 - i);
  const keys = rand(L * KV, 110, 1), vals = rand(L * KV, 111, 1), kCache = new Float32Array(maxB * bs * KV), vCache = new Float32Array(maxB * bs * KV);
  for (let p = 0; p < L; p++) {
    const slot = table[Math.floor(p / bs)] * bs + (p % bs);
    kCache.set(keys.subarray(p * KV, (p + 1) * KV), slot * KV);
    vCache.set(vals.subarray(p * KV, (p + 1) * KV), slot * KV);
  }
  const positions = Int32Array.from([299, 150, 64, 63, 127, 128]), n = positions.length, qkv = rand(n * W, 112, 1);
  for (const window of [0, 100, 64]) {
    const out = new Float32Array(n * NH * D);
    k.attention({ out, qkv, kCache, vCache, seqIds: new Int32Array(n), positions, blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n,
      nHead: NH, nKvHead: NKV, headDim: D, window, scratch: new Float32Array(L) });
    positions.forEach((p, r) => {
      const want = naive.gqaRow(qkv.slice(r * W, r * W + NH * D), keys, vals, p, NH, NKV, D, window);
      assertClose(t, out.slice(r * NH * D, (r + 1) * NH * D), want, TOL, `window ${window} position ${p}`);
    });
    // a rank's KV groups over several key blocks: the full call's bytes in its heads (the native
    // driver runs the heads of a call in turn over each key block), nothing written outside them
    for (const [h0, h1] of [[0, 4], [4, 8], [0, 8]]) {
      const part = new Float32Array(n * NH * D).fill(-7);
      k.attention({ out: part, qkv, kCache, vCache, seqIds: new Int32Array(n), positions, blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n,
        nHead: NH, nKvHead: NKV, headDim: D, window, scratch: new Float32Array(L), h0, h1 });
      for (let r = 0; r < n; r++) {
        for (let h = 0; h < NH; h++) {
          const at = (r * NH + h) * D, got = bits(part.slice(at, at + D));
          t.deepEqual(got, h >= h0 && h < h1 ? bits(out.slice(at, at + D)) : bits(new Float32Array(D).fill(-7)), `window ${window} heads [${h0}, ${h1}) row ${r} head ${h}`);
        }
      }
    }
  }
});

forEachBackend('kvWrite with qDim ≠ kvDim, whole and on channel ranges, writes exactly its channels', (t, k) => {
  const qDim = 48, kvDim = 16, W = qDim + 2 * kvDim, n = 3, qkv = rand(n * W, 91, 1), slots = Int32Array.from([5, 0, 7]);
  for (const [c0, c1] of [[0, kvDim], [0, 8], [8, 16], [3, 13], [16, 16]]) {
    const kc = new Float32Array(8 * kvDim).fill(-3), vc = new Float32Array(8 * kvDim).fill(-3);
    if (c0 === 0 && c1 === kvDim) k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim);
    else k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim, c0, c1);
    for (let s = 0; s < 8; s++) {
      const r = slots.indexOf(s);
      for (let c = 0; c < kvDim; c++) {
        const inRange = r >= 0 && c >= c0 && c < c1;
        t.is(kc[s * kvDim + c], inRange ? qkv[r * W + qDim + c] : -3, `k slot ${s} channel ${c} [${c0}, ${c1})`);
        t.is(vc[s * kvDim + c], inRange ? qkv[r * W + qDim + kvDim + c] : -3, `v slot ${s} channel ${c} [${c0}, ${c1})`);
      }
    }
  }
});

/** Each row of a call alone gives the bytes it gives in the batch. */
function rowsAlone(t: ExecutionContext, label: string, n: number, outW: number, run: (r0: number, r1: number) => Float32Array): void {
  const all = run(0, n);
  for (let r = 0; r < n; r++) t.deepEqual(bits(run(r, r + 1)), bits(all.subarray(r * outW, (r + 1) * outW)), `${label} row ${r}`);
}

forEachBackend('rmsnorm, swiglu, rope and attention rows do not depend on the other rows of the call', (t, k) => {
  const n = 7, C = 300, I = 77;
  const x = rand(n * C, 92, 2), w = rand(C, 93, 1), gu = rand(n * 2 * I, 94, 6);
  rowsAlone(t, 'rmsnorm', n, C, (r0, r1) => {
    const o = new Float32Array((r1 - r0) * C);
    k.rmsnorm(o, x.subarray(r0 * C, r1 * C), w, r1 - r0, C, 1e-5);
    return o;
  });
  rowsAlone(t, 'swiglu', n, I, (r0, r1) => {
    const o = new Float32Array((r1 - r0) * I);
    k.swiglu(o, gu.subarray(r0 * 2 * I, r1 * 2 * I), r1 - r0, I);
    return o;
  });
  const a = ropeArgs(6, 2, 64, true, n, 95), RW = 10 * 64;
  rowsAlone(t, 'rope', n, RW, (r0, r1) => {
    const qkv = a.qkv.slice(r0 * RW, r1 * RW);
    k.rope({ ...a, qkv, positions: a.positions.subarray(r0, r1), n: r1 - r0 });
    return qkv;
  });
  const { rows, W, args } = gqaSetup(6, 2, 8, 3, 96), full = args(new Float32Array(0));
  rowsAlone(t, 'attention', rows.length, 48, (r0, r1) => {
    const o = new Float32Array((r1 - r0) * 48);
    k.attention({ ...full, out: o, qkv: full.qkv.subarray(r0 * W, r1 * W), seqIds: full.seqIds.subarray(r0, r1), positions: full.positions.subarray(r0, r1), n: r1 - r0 });
    return o;
  });
});

// Tensor-parallel ranks each run a range: it must give exactly the bytes of the full call there
// and leave everything else as it was.
forEachBackend('swiglu [j0, j1), rope [h0, h1) and GQA attention [h0, h1) write exactly the full call\'s bytes in range, nothing outside', (t, k) => {
  const n = 3, I = 37, gu = rand(n * 2 * I, 97, 5), full = new Float32Array(n * I);
  k.swiglu(full, gu, n, I);
  for (const [j0, j1] of [[0, 18], [18, 37], [5, 21], [36, 37], [37, 37]]) {
    const part = new Float32Array(n * I).fill(-7);
    k.swiglu(part, gu, n, I, j0, j1);
    const want = full.map((v, i) => (i % I >= j0 && i % I < j1 ? v : -7));
    t.deepEqual(bits(part), bits(want), `swiglu [${j0}, ${j1})`);
  }
  // ranges that split a KV group too (a rank's query heads need not be whole groups): the k heads
  // they read, [⌊h0/G⌋, ⌈h1/G⌉), are rotated by each rank that reads them, with the same bits
  for (const [NH, NKV, ranges] of [[6, 2, [[0, 3], [3, 6], [0, 2], [2, 5], [5, 6]]], [4, 4, [[1, 3], [0, 1], [3, 4]]], [4, 1, [[0, 4], [0, 1], [1, 3]]]] as Array<[number, number, number[][]]>) {
    const D = 8, W = (NH + 2 * NKV) * D, G = NH / NKV, a = ropeArgs(NH, NKV, D, true, 4, 98), before = a.qkv.slice();
    const whole = { ...a, qkv: before.slice() };
    k.rope(whole);
    for (const [h0, h1] of ranges) {
      const part = { ...a, qkv: before.slice(), h0, h1 };
      k.rope(part);
      const want = before.map((v, i) => {
        const c = i % W, head = Math.floor(c / D);
        const mine = (head >= h0 && head < h1) || (head >= NH + Math.floor(h0 / G) && head < NH + Math.ceil(h1 / G));
        return mine ? whole.qkv[i] : v;
      });
      t.deepEqual(bits(part.qkv), bits(want), `rope NH=${NH} NKV=${NKV} heads [${h0}, ${h1})`);
    }
  }
  for (const [NH, NKV, window] of [[6, 2, 3], [4, 1, 0]]) {
    const D = 8, { rows, args } = gqaSetup(NH, NKV, D, window, 99), QO = NH * D;
    const whole = new Float32Array(rows.length * QO);
    k.attention(args(whole));
    for (let h0 = 0; h0 < NH; h0++) {
      for (let h1 = h0 + 1; h1 <= NH; h1++) { // every range, whole KV groups or not
        const part = new Float32Array(rows.length * QO).fill(-7);
        k.attention(args(part, h0, h1));
        const want = whole.map((v, i) => (i % QO >= h0 * D && i % QO < h1 * D ? v : -7));
        t.deepEqual(bits(part), bits(want), `attention NH=${NH} NKV=${NKV} heads [${h0}, ${h1})`);
      }
    }
  }
});


// native/kernels.h promises rmsnorm and rope the same bytes on every SIMD path and in the
// reference (Σx² in f64 in index order, f32 products without FMA).
registerAllKernels();
const sameBytes = nativeSimd() === null ? test.skip : test;
sameBytes('[native] rmsnorm and rope give the reference backend\'s bytes on every SIMD path', (t) => {
  const ref = kernelSet('reference'), nat = kernelSet('native');
  const n = 5, C = 4099, x = rand(n * C, 100, 50), w = rand(C, 101, 1), want = new Float32Array(n * C);
  ref.rmsnorm(want, x, w, n, C, 1e-6);
  const a = ropeArgs(6, 2, 64, true, 7, 102), ropeWant = { ...a, qkv: a.qkv.slice() };
  ref.rope(ropeWant);
  for (const path of ['default', 'portable'] as const) {
    const ran = setNativeSimd(path);
    try {
      const got = new Float32Array(n * C);
      nat.rmsnorm(got, x, w, n, C, 1e-6);
      t.deepEqual(bits(got), bits(want), `rmsnorm on ${ran}`);
      const r = { ...a, qkv: a.qkv.slice() };
      nat.rope(r);
      t.deepEqual(bits(r.qkv), bits(ropeWant.qkv), `rope on ${ran}`);
    } finally {
      setNativeSimd('default');
    }
  }
  t.throws(() => setNativeSimd('avx512' as 'portable'), { message: /unknown path/ });
});
