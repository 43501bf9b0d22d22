// The q8 KV cache (kv_cache_dtype int8; names.ts KvCache, quant.ts Q8 KV rows) on every backend and
// every native SIMD path: kvWrite writes each 32-channel block as [f32 d | 32 int8] with the bytes of
// test/helpers' naive quantizer (and the reference backend's), only in its channels; attention over
// the q8 cache gives bit for bit what the same backend gives over an f32 cache holding the values
// read back (f32(q·d), computed here), for whole calls, head ranges, each row alone, GQA, windows
// and several 64-key blocks. Tolerance against the naive f64 attention over those values:
// max|Δ|/max|ref| ≤ 1e-5.
import test from 'ava';
import type { AttentionArgs, KernelSet } from '../../src/kernels/names.js';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { assertClose } from '../helpers/assert-close.js';
import { forEachBackend } from '../helpers/backends.js';
import { naive, rand } from '../helpers/naive-ops.js';
import { naiveQuantize } from '../helpers/naive-quant.js';

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const BLOCK = 36; // bytes per 32 channels: f32 scale, 32 int8

/** The values a q8 cache [slots, KV] holds, read back as f32(q·d) (a test-side decoding of the layout). */
function q8Values(c: Int8Array, KV: number): Float32Array {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength), nb = c.length / BLOCK, out = new Float32Array(nb * 32);
  for (let b = 0; b < nb; b++) for (let i = 0; i < 32; i++) out[b * 32 + i] = Math.fround(dv.getFloat32(b * BLOCK, true) * c[b * BLOCK + 4 + i]);
  return out.subarray(0, Math.floor(out.length / KV) * KV);
}

/** qkv rows whose k|v parts mix scales, zeros, a block of one value, exact halves of d and the block maximum. */
function kvRows(n: number, qDim: number, kvDim: number): Float32Array {
  const W = qDim + 2 * kvDim, qkv = rand(n * W, 220, 1);
  const scaled = [rand(n * W, 221, 1e-6), rand(n * W, 222, 3e4), rand(n * W, 223, 1e-3)];
  for (let i = 0; i < n * W; i++) if (i % 5 !== 4) qkv[i] = scaled[(i >> 5) % 3][i];
  for (let c = 0; c < 32; c++) qkv[qDim + c] = 0;                 // row 0, k block 0: all zero (d = 0)
  for (let c = 32; c < 64; c++) qkv[W + qDim + c] = -2.5;          // row 1, k block 1: one value
  const half = 127 / 254;                                          // row 2, v block 0: values at q + 1/2 of d
  for (let c = 0; c < 32; c++) qkv[2 * W + qDim + kvDim + c] = c === 0 ? 127 : (c % 7 === 0 ? -1 : 1) * (c + half);
  return qkv;
}

forEachBackend('kvWrite into a q8 cache writes each 32-channel block as the naive quantizer does, only in its channels, with the reference\'s bytes', (t, k) => {
  const qDim = 24, kvDim = 96, W = qDim + 2 * kvDim, n = 5, qkv = kvRows(n, qDim, kvDim), slots = Int32Array.from([6, 0, 3, 7, 1]);
  const rb = (kvDim / 32) * BLOCK;
  registerAllKernels();
  const ref = kernelSet('reference');
  for (const [c0, c1] of [[0, kvDim], [32, 64], [64, 96], [32, 32]]) {
    const kc = new Int8Array(8 * rb).fill(0x12), vc = new Int8Array(8 * rb).fill(0x12);
    k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim, c0, c1);
    for (const [cache, part] of [[kc, 0], [vc, kvDim]] as const) {
      const dv = new DataView(cache.buffer);
      for (let s = 0; s < 8; s++) for (let b = 0; b < kvDim / 32; b++) {
        const r = slots.indexOf(s), at = s * rb + b * BLOCK, label = `${part ? 'v' : 'k'} slot ${s} block ${b} [${c0}, ${c1})`;
        if (r < 0 || b * 32 < c0 || b * 32 >= c1) { t.true(cache.subarray(at, at + BLOCK).every((x) => x === 0x12), `${label} written`); continue; }
        const want = naiveQuantize(qkv.slice(r * W + qDim + part + b * 32, r * W + qDim + part + b * 32 + 32), 1, 32);
        t.is(dv.getFloat32(at, true), want.d[0], `${label} scale`);
        t.deepEqual(Array.from(cache.subarray(at + 4, at + BLOCK)), Array.from(want.q), `${label} values`);
      }
    }
    const rk = new Int8Array(8 * rb).fill(0x12), rv = new Int8Array(8 * rb).fill(0x12);
    ref.kvWrite(qkv, rk, rv, slots, n, qDim, kvDim, c0, c1);
    t.deepEqual(Array.from(kc), Array.from(rk), `k bytes = reference [${c0}, ${c1})`);
    t.deepEqual(Array.from(vc), Array.from(rv), `v bytes = reference [${c0}, ${c1})`);
  }
}, { allSimd: true });

interface Paged { q8: AttentionArgs; f32: AttentionArgs; keys: Float32Array[]; vals: Float32Array[]; rows: Array<[number, number]>; W: number }

/**
 * Two sequences (L and L/2 tokens) in 16-slot blocks with a scrambled table, their k/v written by
 * the backend's kvWrite into a q8 cache; the f32 cache holds the values read back (test helper).
 */
function paged(k: KernelSet, NH: number, NKV: number, D: number, window: number, L: number, seed: number): Paged {
  const KV = NKV * D, W = (NH + 2 * NKV) * D, bs = 16, maxB = Math.ceil(L / bs), lens = [L, Math.max(1, L >> 1)];
  const table = new Int32Array(2 * maxB).fill(-1);
  for (let b = 0; b < maxB; b++) table[b] = 2 * maxB - 1 - 2 * b;        // sequence 0: odd blocks, reversed
  for (let b = 0; b < Math.ceil(lens[1] / bs); b++) table[maxB + b] = 2 * b; // sequence 1: even blocks
  const kc = new Int8Array(2 * maxB * bs * (KV / 32) * BLOCK), vc = new Int8Array(kc.length);
  const hist = lens.map((len, s) => rand(len * W, seed + s, 2));
  lens.forEach((len, s) => {
    const slots = Int32Array.from({ length: len }, (_, p) => table[s * maxB + Math.floor(p / bs)] * bs + (p % bs));
    k.kvWrite(hist[s], kc, vc, slots, len, NH * D, KV);
  });
  const [kf, vf] = [q8Values(kc, KV), q8Values(vc, KV)];
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
  return { q8: { ...base, kCache: kc, vCache: vc }, f32: { ...base, kCache: kf, vCache: vf }, keys: [0, 1].map((s) => dense(kf, s)), vals: [0, 1].map((s) => dense(vf, s)), rows, W };
}

// [NH, NKV, D, window, L]: GQA and MHA, head widths of one to four blocks, windows, 300 positions
const CASES: Array<[number, number, number, number, number]> = [[6, 2, 32, 0, 40], [2, 2, 96, 5, 70], [4, 1, 64, 0, 300], [8, 2, 64, 100, 300], [2, 1, 128, 0, 90]];

/** attention(a) into a fresh out (prefilled with -7, so untouched columns show) */
function run(k: KernelSet, a: AttentionArgs, patch: Partial<AttentionArgs> = {}): Float32Array {
  const n = patch.n ?? a.n, out = new Float32Array(n * a.nHead * a.headDim).fill(-7);
  k.attention({ ...a, ...patch, out });
  return out;
}

forEachBackend('attention over a q8 cache gives the bits of attention over the f32 cache of the values read back, and matches dense attention', (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES) {
    const c = paged(k, NH, NKV, D, window, L, 230 + D), label = `NH=${NH} NKV=${NKV} D=${D} window=${window} L=${L}`;
    const q8 = run(k, c.q8);
    t.deepEqual(bits(q8), bits(run(k, c.f32)), label);
    c.rows.forEach(([s, p], r) => {
      const want = naive.gqaRow(c.q8.qkv.slice(r * c.W, r * c.W + NH * D), c.keys[s], c.vals[s], p, NH, NKV, D, window);
      assertClose(t, q8.slice(r * NH * D, (r + 1) * NH * D), want, 1e-5, `${label} row ${r} vs dense`);
    });
  }
}, { allSimd: true });

forEachBackend('attention over a q8 cache: head ranges write exactly the full call\'s bytes, and each row alone gives its batch bytes', (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES.slice(0, 4)) {
    const c = paged(k, NH, NKV, D, window, L, 240), G = NH / NKV, QO = NH * D, whole = run(k, c.q8);
    for (let h0 = 0; h0 < NH; h0 += G) {
      const part = run(k, c.q8, { h0, h1: h0 + G }), f32 = run(k, c.f32, { h0, h1: h0 + G });
      t.deepEqual(bits(part), bits(whole.map((v, i) => (i % QO >= h0 * D && i % QO < (h0 + G) * D ? v : -7))), `heads [${h0}, ${h0 + G}) NH=${NH} D=${D}`);
      t.deepEqual(bits(part), bits(f32), `heads [${h0}, ${h0 + G}) q8 = f32`);
    }
    const { qkv, seqIds, positions } = c.q8;
    for (let r = 0; r < c.rows.length; r++) {
      const alone = run(k, c.q8, { qkv: qkv.subarray(r * c.W, (r + 1) * c.W), seqIds: seqIds.subarray(r, r + 1), positions: positions.subarray(r, r + 1), n: 1 });
      t.deepEqual(bits(alone), bits(whole.subarray(r * QO, (r + 1) * QO)), `row ${r} alone NH=${NH} D=${D}`);
    }
  }
}, { allSimd: true });

test('the native addon refuses a q8 cache it cannot address: channels off the 32-blocks, a mixed pair, a slot past the end', (t) => {
  registerAllKernels();
  let k: KernelSet;
  try { k = kernelSet('native'); } catch { t.pass('native backend unavailable'); return; }
  const qkv = new Float32Array(3 * 64), c = () => new Int8Array(2 * 2 * BLOCK), one = Int32Array.from([0]);
  t.throws(() => k.kvWrite(qkv, c(), c(), one, 1, 64, 48), { message: /NKV·D a multiple of 32/ });
  t.throws(() => k.kvWrite(qkv, c(), c(), one, 1, 64, 64, 16, 64), { message: /c0 and c1 must be multiples of 32/ });
  t.throws(() => k.kvWrite(qkv, c(), new Float32Array(128), one, 1, 64, 64), { message: /vCache must be a Int8Array|vCache must be an Int8Array/ });
  t.throws(() => k.kvWrite(qkv, c(), c(), Int32Array.from([2]), 1, 64, 64), { message: /slot out of range/ });
  k.kvWrite(qkv, c(), c(), Int32Array.from([1]), 1, 64, 64);
  t.pass();
});
