// The f16 KV cache (kv_cache_dtype float16; names.ts KvCache) on every backend and every native
// SIMD path: kvWrite rounds each k/v value to nearest even (checked against test/helpers'
// value-arithmetic rounding and against the reference backend's bits), and attention over the f16
// cache gives bit for bit what the same backend gives over an f32 cache holding the widened values
// (whole calls, head ranges, each row alone, GQA, windows, several 64-key blocks). Tolerance
// against the naive f64 attention: max|Δ|/max|ref| ≤ 1e-5.
import test from 'ava';
import type { AttentionArgs, KernelSet } from '../../src/kernels/names.js';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { assertClose } from '../helpers/assert-close.js';
import { forEachBackend } from '../helpers/backends.js';
import { naive, rand } from '../helpers/naive-ops.js';
import { f16Values, naiveF16Round } from '../helpers/naive-quant.js';

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));

// ties to even (1 + 2^-11, 1 + 3·2^-11), subnormals and their ties (2^-25, 3·2^-25), underflow,
// the largest finite, overflow at 65520, infinities, -0, NaN
const SPECIAL = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 2 ** -25, 3 * 2 ** -25, 2 ** -24, 5e-8, 2 ** -26, 1e-30, 6.1e-5,
  65504, 65519, 65520, -65520, 1e6, Infinity, -Infinity, -0, 0, NaN, 2 ** -14, 2 ** -14 - 2 ** -25, 0.1, -3.14159];

/** qkv rows [n, qDim + 2·kvDim] whose k|v parts hold SPECIAL and random values of several scales. */
function kvRows(n: number, qDim: number, kvDim: number): Float32Array {
  const W = qDim + 2 * kvDim, qkv = rand(n * W, 120, 1);
  const scaled = [rand(n * W, 121, 1e-6), rand(n * W, 122, 3e4), rand(n * W, 123, 1e-3)];
  for (let i = 0; i < n * W; i++) if (i % 4 !== 3) qkv[i] = scaled[i % 3][i];
  SPECIAL.forEach((v, i) => { qkv[(i % n) * W + qDim + ((i * 7) % (2 * kvDim))] = v; });
  return qkv;
}

forEachBackend('kvWrite into an f16 cache rounds every value to nearest even (ties, subnormals, ±inf), only in its channels, with the reference\'s bits', (t, k) => {
  const qDim = 24, kvDim = 19, W = qDim + 2 * kvDim, n = 5, qkv = kvRows(n, qDim, kvDim), slots = Int32Array.from([6, 0, 3, 7, 1]);
  registerAllKernels();
  const ref = kernelSet('reference');
  for (const [c0, c1] of [[0, kvDim], [3, 13], [8, 16], [19, 19]]) {
    const kc = new Uint16Array(8 * kvDim).fill(0x1234), vc = new Uint16Array(8 * kvDim).fill(0x1234);
    k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim, c0, c1);
    const [kw, vw] = [f16Values(kc), f16Values(vc)];
    for (let s = 0; s < 8; s++) {
      const r = slots.indexOf(s);
      for (let c = 0; c < kvDim; c++) {
        const i = s * kvDim + c, inRange = r >= 0 && c >= c0 && c < c1;
        if (!inRange) { t.true(kc[i] === 0x1234 && vc[i] === 0x1234, `slot ${s} channel ${c} [${c0}, ${c1}) written`); continue; }
        const [wk, wv] = [naiveF16Round(qkv[r * W + qDim + c]), naiveF16Round(qkv[r * W + qDim + kvDim + c])];
        t.true(Object.is(kw[i], wk), `k slot ${s} channel ${c}: ${qkv[r * W + qDim + c]} → ${kw[i]}, want ${wk}`);
        t.true(Object.is(vw[i], wv), `v slot ${s} channel ${c}: ${qkv[r * W + qDim + kvDim + c]} → ${vw[i]}, want ${wv}`);
      }
    }
    const rk = new Uint16Array(8 * kvDim).fill(0x1234), rv = new Uint16Array(8 * kvDim).fill(0x1234);
    ref.kvWrite(qkv, rk, rv, slots, n, qDim, kvDim, c0, c1);
    t.deepEqual(Array.from(kc), Array.from(rk), `k bits = reference [${c0}, ${c1})`);
    t.deepEqual(Array.from(vc), Array.from(rv), `v bits = reference [${c0}, ${c1})`);
  }
}, { allSimd: true });

interface Paged { f16: AttentionArgs; f32: AttentionArgs; keys: Float32Array[]; vals: Float32Array[]; rows: Array<[number, number]>; W: number }

/**
 * Two sequences (L and L/2 tokens) in 16-slot blocks with a scrambled table, their k/v written by
 * the backend's kvWrite into an f16 cache; the f32 cache holds the same values widened (test helper).
 */
function paged(k: KernelSet, NH: number, NKV: number, D: number, window: number, L: number, seed: number): Paged {
  const KV = NKV * D, W = (NH + 2 * NKV) * D, bs = 16, maxB = Math.ceil(L / bs), lens = [L, Math.max(1, L >> 1)];
  const table = new Int32Array(2 * maxB).fill(-1);
  for (let b = 0; b < maxB; b++) table[b] = 2 * maxB - 1 - 2 * b;        // sequence 0: odd blocks, reversed
  for (let b = 0; b < Math.ceil(lens[1] / bs); b++) table[maxB + b] = 2 * b; // sequence 1: even blocks
  const kc = new Uint16Array(2 * maxB * bs * KV), vc = new Uint16Array(kc.length);
  const hist = lens.map((len, s) => rand(len * W, seed + s, 2));
  lens.forEach((len, s) => {
    const slots = Int32Array.from({ length: len }, (_, p) => table[s * maxB + Math.floor(p / bs)] * bs + (p % bs));
    k.kvWrite(hist[s], kc, vc, slots, len, NH * D, KV);
  });
  const [kf, vf] = [f16Values(kc), f16Values(vc)];
  const dense = (c: Float32Array, s: number) => Float32Array.from({ length: lens[s] * KV }, (_, i) => {
    const p = Math.floor(i / KV);
    return c[(table[s * maxB + Math.floor(p / bs)] * bs + (p % bs)) * KV + (i % KV)];
  });
  const rows: Array<[number, number]> = [[0, L - 1], [1, 0], [0, 0], [1, lens[1] - 1], [0, Math.min(L - 1, 64)], [0, Math.min(L - 1, 63)], [0, L >> 2]];
  const base = {
    out: new Float32Array(rows.length * NH * D), qkv: rand(rows.length * W, seed + 5, 2), seqIds: Int32Array.from(rows.map((r) => r[0])),
    positions: Int32Array.from(rows.map((r) => r[1])), blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n: rows.length,
    nHead: NH, nKvHead: NKV, headDim: D, window, scratch: new Float32Array(L),
  };
  return { f16: { ...base, kCache: kc, vCache: vc }, f32: { ...base, kCache: kf, vCache: vf }, keys: [0, 1].map((s) => dense(kf, s)), vals: [0, 1].map((s) => dense(vf, s)), rows, W };
}

// [NH, NKV, D, window, L]: GQA and MHA, head widths off the vector width, windows, 300 positions
const CASES: Array<[number, number, number, number, number]> = [[6, 2, 8, 0, 40], [6, 2, 20, 5, 40], [4, 1, 64, 0, 300], [8, 2, 64, 100, 300], [3, 3, 13, 0, 70]];

/** attention(a) into a fresh out (prefilled with -7, so untouched columns show) */
function run(k: KernelSet, a: AttentionArgs, patch: Partial<AttentionArgs> = {}): Float32Array {
  const n = patch.n ?? a.n, out = new Float32Array(n * a.nHead * a.headDim).fill(-7);
  k.attention({ ...a, ...patch, out });
  return out;
}

forEachBackend('attention over an f16 cache gives the bits of attention over the f32 cache of the same values, and matches dense attention', (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES) {
    const c = paged(k, NH, NKV, D, window, L, 130 + D), label = `NH=${NH} NKV=${NKV} D=${D} window=${window} L=${L}`;
    const half = run(k, c.f16);
    t.deepEqual(bits(half), bits(run(k, c.f32)), label);
    c.rows.forEach(([s, p], r) => {
      const want = naive.gqaRow(c.f16.qkv.slice(r * c.W, r * c.W + NH * D), c.keys[s], c.vals[s], p, NH, NKV, D, window);
      assertClose(t, half.slice(r * NH * D, (r + 1) * NH * D), want, 1e-5, `${label} row ${r} vs dense`);
    });
  }
}, { allSimd: true });

forEachBackend('attention over an f16 cache: head ranges write exactly the full call\'s bytes, and each row alone gives its batch bytes', (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES.slice(0, 4)) {
    const c = paged(k, NH, NKV, D, window, L, 140), G = NH / NKV, QO = NH * D, whole = run(k, c.f16);
    for (let h0 = 0; h0 < NH; h0 += G) {
      const part = run(k, c.f16, { h0, h1: h0 + G }), f32 = run(k, c.f32, { h0, h1: h0 + G });
      t.deepEqual(bits(part), bits(whole.map((v, i) => (i % QO >= h0 * D && i % QO < (h0 + G) * D ? v : -7))), `heads [${h0}, ${h0 + G}) NH=${NH} D=${D}`);
      t.deepEqual(bits(part), bits(f32), `heads [${h0}, ${h0 + G}) f16 = f32`);
    }
    const { qkv, seqIds, positions } = c.f16;
    for (let r = 0; r < c.rows.length; r++) {
      const alone = run(k, c.f16, { qkv: qkv.subarray(r * c.W, (r + 1) * c.W), seqIds: seqIds.subarray(r, r + 1), positions: positions.subarray(r, r + 1), n: 1 });
      t.deepEqual(bits(alone), bits(whole.subarray(r * QO, (r + 1) * QO)), `row ${r} alone NH=${NH} D=${D}`);
    }
  }
}, { allSimd: true });

test('a Float32Array k cache with a Uint16Array v cache is refused by the native addon', (t) => {
  registerAllKernels();
  let k: KernelSet;
  try { k = kernelSet('native'); } catch { t.pass('native backend unavailable'); return; }
  const qkv = new Float32Array(3 * 8);
  t.throws(() => k.kvWrite(qkv, new Float32Array(8), new Uint16Array(8), Int32Array.from([0]), 1, 8, 8), { message: /vCache must be a Float32Array/ });
});
