// Attention over the compact KV caches (names.ts KvCache) on every backend and every native SIMD
// path: over an f16 cache (kv_cache_dtype float16) or a q8 one (int8), written by the backend's own
// kvWrite, it gives bit for bit what the same backend gives over an f32 cache holding the values
// read back (f16 widened, q8 as f32(q·d); decoded here by test/helpers), for whole calls, head
// ranges, each row alone, GQA, windows and several 64-key blocks. Tolerance against the naive f64
// attention over those values: max|Δ|/max|ref| ≤ 1e-5. (kvWrite itself: ops-kv16, ops-kv8.)
import type { AttentionArgs, KernelSet } from '../../src/kernels/names.js';
import { assertClose } from '../helpers/assert-close.js';
import { forEachBackend } from '../helpers/backends.js';
import { naive, rand } from '../helpers/naive-ops.js';
import { f16Values, q8KvValues } from '../helpers/naive-quant.js';

type Kind = 'f16' | 'q8';
const KINDS: Kind[] = ['f16', 'q8'];
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));

interface Paged { small: AttentionArgs; f32: AttentionArgs; keys: Float32Array[]; vals: Float32Array[]; rows: Array<[number, number]>; W: number }

/**
 * Two sequences (L and L/2 tokens) in 16-slot blocks with a scrambled table, their k/v written by
 * the backend's kvWrite into an f16 or q8 cache; the f32 cache holds the values read back (test helpers).
 */
function paged(k: KernelSet, kind: Kind, NH: number, NKV: number, D: number, window: number, L: number, seed: number): Paged {
  const KV = NKV * D, W = (NH + 2 * NKV) * D, bs = 16, maxB = Math.ceil(L / bs), lens = [L, Math.max(1, L >> 1)];
  const table = new Int32Array(2 * maxB).fill(-1);
  for (let b = 0; b < maxB; b++) table[b] = 2 * maxB - 1 - 2 * b;        // sequence 0: odd blocks, reversed
  for (let b = 0; b < Math.ceil(lens[1] / bs); b++) table[maxB + b] = 2 * b; // sequence 1: even blocks
  const slots = 2 * maxB * bs, kc = kind === 'f16' ? new Uint16Array(slots * KV) : new Int8Array(slots * (KV / 32) * 36), vc = kc.slice();
  const hist = lens.map((len, s) => rand(len * W, seed + s, 2));
  lens.forEach((len, s) => {
    const slots = Int32Array.from({ length: len }, (_, p) => table[s * maxB + Math.floor(p / bs)] * bs + (p % bs));
    k.kvWrite(hist[s], kc, vc, slots, len, NH * D, KV);
  });
  const back = (c: Uint16Array | Int8Array) => (c instanceof Uint16Array ? f16Values(c) : q8KvValues(c, KV));
  const [kf, vf] = [back(kc), back(vc)];
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
  return { small: { ...base, kCache: kc, vCache: vc }, f32: { ...base, kCache: kf, vCache: vf }, keys: [0, 1].map((s) => dense(kf, s)), vals: [0, 1].map((s) => dense(vf, s)), rows, W };
}

// [NH, NKV, D, window, L]: GQA and MHA, windows, 300 positions (several 64-key blocks); head widths
// off the vector width for f16, of one to four 32-channel blocks for q8
const CASES: Record<Kind, Array<[number, number, number, number, number]>> = {
  f16: [[6, 2, 8, 0, 40], [6, 2, 20, 5, 40], [4, 1, 64, 0, 300], [8, 2, 64, 100, 300], [3, 3, 13, 0, 70]],
  q8: [[6, 2, 32, 0, 40], [2, 2, 96, 5, 70], [4, 1, 64, 0, 300], [8, 2, 64, 100, 300], [2, 1, 128, 0, 90]],
};

/** attention(a) into a fresh out (prefilled with -7, so untouched columns show) */
function run(k: KernelSet, a: AttentionArgs, patch: Partial<AttentionArgs> = {}): Float32Array {
  const n = patch.n ?? a.n, out = new Float32Array(n * a.nHead * a.headDim).fill(-7);
  k.attention({ ...a, ...patch, out });
  return out;
}

for (const kind of KINDS) {
forEachBackend(`attention over a ${kind} cache gives the bits of attention over the f32 cache of the values read back, and matches dense attention`, (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES[kind]) {
    const c = paged(k, kind, NH, NKV, D, window, L, 230 + D), label = `NH=${NH} NKV=${NKV} D=${D} window=${window} L=${L}`;
    const small = run(k, c.small);
    t.deepEqual(bits(small), bits(run(k, c.f32)), label);
    c.rows.forEach(([s, p], r) => {
      const want = naive.gqaRow(c.small.qkv.slice(r * c.W, r * c.W + NH * D), c.keys[s], c.vals[s], p, NH, NKV, D, window);
      assertClose(t, small.slice(r * NH * D, (r + 1) * NH * D), want, 1e-5, `${label} row ${r} vs dense`);
    });
  }
}, { allSimd: true });

forEachBackend(`attention over a ${kind} cache: head ranges write exactly the full call's bytes, and each row alone gives its batch bytes`, (t, k) => {
  for (const [NH, NKV, D, window, L] of CASES[kind].slice(0, 4)) {
    const c = paged(k, kind, NH, NKV, D, window, L, 240), G = NH / NKV, QO = NH * D, whole = run(k, c.small);
    for (let h0 = 0; h0 < NH; h0 += G) {
      const part = run(k, c.small, { h0, h1: h0 + G }), f32 = run(k, c.f32, { h0, h1: h0 + G });
      t.deepEqual(bits(part), bits(whole.map((v, i) => (i % QO >= h0 * D && i % QO < (h0 + G) * D ? v : -7))), `heads [${h0}, ${h0 + G}) NH=${NH} D=${D}`);
      t.deepEqual(bits(part), bits(f32), `heads [${h0}, ${h0 + G}) ${kind} = f32`);
    }
    const { qkv, seqIds, positions } = c.small;
    for (let r = 0; r < c.rows.length; r++) {
      const alone = run(k, c.small, { qkv: qkv.subarray(r * c.W, (r + 1) * c.W), seqIds: seqIds.subarray(r, r + 1), positions: positions.subarray(r, r + 1), n: 1 });
      t.deepEqual(bits(alone), bits(whole.subarray(r * QO, (r + 1) * QO)), `row ${r} alone NH=${NH} D=${D}`);
    }
  }
}, { allSimd: true });
}
