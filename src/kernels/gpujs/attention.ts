// gpu.js causal grouped-query attention over the paged KV cache, with the semantics of
// reference/attention.ts: row r (sequence s, position p) attends to positions t0..p of s (t0 =
// p - window + 1 with a sliding window, else 0), whose keys/values sit at slot
// blockTable[s][t / bs]·bs + t % bs; query head h reads KV head h / G (G = NH / NKV); scores are
// scaled by 1/√D and soft-maxed.   [n, W] → [n, NH·D]
// Two kernels: (1) one thread per (row, head, t) computes the scaled score q·k (t outside t0..p: unused);
// (2) one thread per output element takes max and Σexp over its row/head's scores and sums p·v.
// The score buffer is [nb·NH, Tb] with Tb = the next power of two ≥ max position + 1, so kernels
// are compiled per bucket, not per decode step. Padding rows reuse row 0's sequence at position 0.
// The caller's `scratch` is not used (scores live in the kernel's output). An f16 or q8 cache is
// read back into a staging f32 copy first (the kernels read f32; f16 exactly, q8 as f32(q·d)).
import type { AttentionArgs, KernelSet, KvCache } from '../names.js';
import { dequantizeKv8, kv8RowBytes, kv8Scales, widen16 } from '../quant.js';
import { as2d, bucket, kernelFor, padded, runKernel } from './context.js';

/** Slots of a cache with rows of KV channels. */
const slotsOf = (c: KvCache, KV: number): number => Math.floor(c instanceof Int8Array ? c.length / kv8RowBytes(KV) : c.length / KV);

const staging = new Map<string, Float32Array>();
/** The cache [nSlots, KV] as f32: itself, or its values read back into a reused buffer per name. */
function f32Cache(name: string, c: KvCache, KV: number): Float32Array {
  if (c instanceof Float32Array) return c;
  const len = slotsOf(c, KV) * KV;
  let f = staging.get(name);
  if (!f || f.length !== len) staging.set(name, (f = new Float32Array(len)));
  if (c instanceof Uint16Array) widen16(f, c, 'f16');
  else dequantizeKv8(f, c, kv8Scales(c), 0, 0, len); // rows are consecutive: channel c of slot s is (s·KV + c)
  return f;
}

// output [nb · NH · Tb]; cell → (row r, head h, position t)
const SCORES = `function (qkv, kCache, seqIds, positions, blockTable) {
  const Tb = this.constants.Tb;
  const HT = this.constants.NH * Tb;
  let r = Math.floor(this.thread.x / HT);
  let rem = this.thread.x - r * HT;
  if (rem < 0) { r = r - 1; rem = rem + HT; }
  if (rem >= HT) { r = r + 1; rem = rem - HT; }
  let h = Math.floor(rem / Tb);
  let t = rem - h * Tb;
  if (t < 0) { h = h - 1; t = t + Tb; }
  if (t >= Tb) { h = h + 1; t = t - Tb; }
  if (t > positions[r] || t < positions[r] - this.constants.WIN + 1) {
    return 0;
  }
  const bs = this.constants.bs;
  let bi = Math.floor(t / bs);
  let off = t - bi * bs;
  if (off < 0) { bi = bi - 1; off = off + bs; }
  if (off >= bs) { bi = bi + 1; off = off - bs; }
  const slot = blockTable[seqIds[r] * this.constants.maxB + bi] * bs + off;
  const D = this.constants.D;
  const q0 = h * D;
  let kh = Math.floor(h / this.constants.G);
  if (h - kh * this.constants.G < 0) { kh = kh - 1; }
  if (h - kh * this.constants.G >= this.constants.G) { kh = kh + 1; }
  const k0 = kh * D;
  let s = 0;
  for (let d = 0; d < D; d++) {
    s += qkv[r][q0 + d] * kCache[slot][k0 + d];
  }
  return s * this.constants.scale;
}`;

// output [nb · NH·D]; cell → (row r, channel c), head h = c / D, scores of positions t0..p (t0 as
// in the score kernel, with WIN = P + 1 when there is no window). Loop variables have distinct
// names: gpu.js's cpu mode hoists them into one function scope.
const OUT = `function (scores, vCache, seqIds, positions, blockTable) {
  const C = this.constants.QO;
  let r = Math.floor(this.thread.x / C);
  let c = this.thread.x - r * C;
  if (c < 0) { r = r - 1; c = c + C; }
  if (c >= C) { r = r + 1; c = c - C; }
  const D = this.constants.D;
  let h = Math.floor(c / D);
  if (c - h * D < 0) { h = h - 1; }
  if (c - h * D >= D) { h = h + 1; }
  const row = r * this.constants.NH + h;
  const pos = positions[r];
  const t0 = Math.max(0, pos - this.constants.WIN + 1);
  let kh = Math.floor(h / this.constants.G);
  if (h - kh * this.constants.G < 0) { kh = kh - 1; }
  if (h - kh * this.constants.G >= this.constants.G) { kh = kh + 1; }
  const vc = kh * D + c - h * D;
  let mx = scores[row][t0];
  for (let t1 = t0 + 1; t1 <= pos; t1++) {
    mx = Math.max(mx, scores[row][t1]);
  }
  let sum = 0;
  for (let t2 = t0; t2 <= pos; t2++) {
    sum += Math.exp(scores[row][t2] - mx);
  }
  const bs = this.constants.bs;
  const base = seqIds[r] * this.constants.maxB;
  let acc = 0;
  for (let t3 = t0; t3 <= pos; t3++) {
    let bi = Math.floor(t3 / bs);
    let off = t3 - bi * bs;
    if (off < 0) { bi = bi - 1; off = off + bs; }
    if (off >= bs) { bi = bi + 1; off = off - bs; }
    const slot = blockTable[base + bi] * bs + off;
    acc += (Math.exp(scores[row][t3] - mx) / sum) * vCache[slot][vc];
  }
  return acc;
}`;

export const attention: KernelSet['attention'] = (a: AttentionArgs) => {
  const { n, nHead: NH, nKvHead: NKV, headDim: D, blockSize: bs, maxBlocksPerSeq: maxB } = a;
  if (n === 0) return;
  const W = (NH + 2 * NKV) * D, KV = NKV * D, QO = NH * D, G = NH / NKV, nb = bucket(n);
  let maxPos = 0;
  for (let i = 0; i < n; i++) maxPos = Math.max(maxPos, a.positions[i]);
  const Tb = bucket(maxPos + 1);
  const WIN = a.window > 0 ? a.window : Tb + 1; // no window: t0 = 0 for every position < Tb
  const nSlots = slotsOf(a.kCache, KV);
  const tableLen = a.blockTable.length;
  // padding rows: row 0's sequence at position 0 (its block 0 is always mapped)
  const seqIds = padded('attention.seqIds', a.seqIds, n, nb, a.seqIds[0]);
  const positions = padded('attention.positions', a.positions, n, nb, 0);
  const qkv = as2d(padded('attention.qkv', a.qkv, n * W, nb * W), W, nb);
  const consts = { QO, NH, G, D, Tb, bs, maxB, WIN, scale: 1 / Math.sqrt(D) };
  const shape = `${nb}|${NH}|${NKV}|${D}|${WIN}|${Tb}|${bs}|${maxB}|${nSlots}|${tableLen}`;
  const scoresK = kernelFor(`attention.scores|${shape}`, SCORES, nb * NH * Tb, consts);
  const scores = runKernel(scoresK, qkv, as2d(f32Cache('attention.k', a.kCache, KV), KV, nSlots), seqIds, positions, a.blockTable);
  const outK = kernelFor(`attention.out|${shape}`, OUT, nb * QO, consts);
  const r = runKernel(outK, as2d(scores, Tb, nb * NH), as2d(f32Cache('attention.v', a.vCache, KV), KV, nSlots), seqIds, positions, a.blockTable);
  const h0 = a.h0 ?? 0, h1 = a.h1 ?? NH;
  if (h0 === 0 && h1 === NH) { a.out.set(r.subarray(0, n * QO)); return; }
  // heads [h0, h1) only: the kernels above compute every head (one compiled shape); the rest is dropped
  for (let i = 0; i < n; i++) a.out.set(r.subarray(i * QO + h0 * D, i * QO + h1 * D), i * QO + h0 * D);
};
