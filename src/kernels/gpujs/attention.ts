// gpu.js causal attention over the paged KV cache, with the semantics of reference/attention.ts:
// row r (sequence s, position p) attends to positions 0..p of s, whose keys/values sit at slot
// blockTable[s][t / bs]·bs + t % bs; scores are scaled by 1/√D and soft-maxed.   [n, 3C] → [n, C]
// Two kernels: (1) one thread per (row, head, t) computes the scaled score q·k (t > p: unused);
// (2) one thread per output element takes max and Σexp over its row/head's scores and sums p·v.
// The score buffer is [nb·NH, Tb] with Tb = the next power of two ≥ max position + 1, so kernels
// are compiled per bucket, not per decode step. Padding rows reuse row 0's sequence at position 0.
// The caller's `scratch` is not used (scores live in the kernel's output).
import type { KernelConfig } from '../registry.js';
import type { AttentionArgs, KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, runKernel } from './context.js';

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
  if (t > positions[r]) {
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
  let s = 0;
  for (let d = 0; d < D; d++) {
    s += qkv[r][q0 + d] * kCache[slot][q0 + d];
  }
  return s * this.constants.scale;
}`;

// output [nb · C]; cell → (row r, channel c), head h = c / D. Loop variables have distinct names:
// gpu.js's cpu mode hoists them into one function scope.
const OUT = `function (scores, vCache, seqIds, positions, blockTable) {
  const C = this.constants.C;
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
  let mx = scores[row][0];
  for (let t1 = 1; t1 <= pos; t1++) {
    mx = Math.max(mx, scores[row][t1]);
  }
  let sum = 0;
  for (let t2 = 0; t2 <= pos; t2++) {
    sum += Math.exp(scores[row][t2] - mx);
  }
  const bs = this.constants.bs;
  const base = seqIds[r] * this.constants.maxB;
  let acc = 0;
  for (let t3 = 0; t3 <= pos; t3++) {
    let bi = Math.floor(t3 / bs);
    let off = t3 - bi * bs;
    if (off < 0) { bi = bi - 1; off = off + bs; }
    if (off >= bs) { bi = bi + 1; off = off - bs; }
    const slot = blockTable[base + bi] * bs + off;
    acc += (Math.exp(scores[row][t3] - mx) / sum) * vCache[slot][c];
  }
  return acc;
}`;

export const attention: KernelSet['attention'] = (a: AttentionArgs) => {
  const { n, C, nHead: NH, blockSize: bs, maxBlocksPerSeq: maxB } = a;
  if (n === 0) return;
  const D = C / NH, nb = bucket(n);
  let maxPos = 0;
  for (let i = 0; i < n; i++) maxPos = Math.max(maxPos, a.positions[i]);
  const Tb = bucket(maxPos + 1);
  const nSlots = Math.floor(a.kCache.length / C);
  const tableLen = a.blockTable.length;
  // padding rows: row 0's sequence at position 0 (its block 0 is always mapped)
  const seqIds = padded('attention.seqIds', a.seqIds, n, nb, a.seqIds[0]);
  const positions = padded('attention.positions', a.positions, n, nb, 0);
  const qkv = as2d(padded('attention.qkv', a.qkv, n * 3 * C, nb * 3 * C), 3 * C, nb);
  const consts = { C, NH, D, Tb, bs, maxB, scale: 1 / Math.sqrt(D) };
  const shape = `${nb}|${C}|${NH}|${Tb}|${bs}|${maxB}|${nSlots}|${tableLen}`;
  const scoresK = kernelFor(`attention.scores|${shape}`, SCORES, nb * NH * Tb, consts);
  const scores = runKernel(scoresK, qkv, as2d(a.kCache, C, nSlots), seqIds, positions, a.blockTable);
  const outK = kernelFor(`attention.out|${shape}`, OUT, nb * C, consts);
  const r = runKernel(outK, as2d(scores, Tb, nb * NH), as2d(a.vCache, C, nSlots), seqIds, positions, a.blockTable);
  const h0 = a.h0 ?? 0, h1 = a.h1 ?? NH;
  if (h0 === 0 && h1 === NH) { a.out.set(r.subarray(0, n * C)); return; }
  // heads [h0, h1) only: the kernels above compute every head (one compiled shape); the rest is dropped
  for (let i = 0; i < n; i++) a.out.set(r.subarray(i * C + h0 * D, i * C + h1 * D), i * C + h0 * D);
};

export const attentionConfig: KernelConfig<'attention'> = { backend: 'gpujs', op: 'attention', fn: attention };
