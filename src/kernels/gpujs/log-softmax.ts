// gpu.js row-wise log-softmax.   [m, V] → [m, V]; out may alias inp (the input is staged first).
// A row of V = 50257 is reduced in chunks of CH columns by four kernels: (1) max per (row, chunk);
// (2) Σ exp(x − rowmax) per (row, chunk), rowmax taken over (1); (3) lse = rowmax + log Σ chunk sums
// per row; (4) x − lse per element. Chunking keeps every thread under Mesa llvmpipe's limit of
// 65535 loop iterations per shader invocation (a single-thread-per-row kernel silently stops
// summing past it under headless-gl on a software GL), spreads the work over more threads, and
// sums in two levels (better f32 accuracy). The chunking depends only on V: rows stay independent.
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const CH = 2048;

// output [mb · NC]: cell (r, chunk c)
const CHUNK_MAX = `function (x) {
  ${rowCol('this.constants.NC')}
  const k0 = c * this.constants.CH;
  const k1 = Math.min(k0 + this.constants.CH, this.constants.V);
  let mx = x[r][k0];
  for (let k = k0 + 1; k < k1; k++) {
    mx = Math.max(mx, x[r][k]);
  }
  return mx;
}`;

const CHUNK_SUM = `function (x, cmax) {
  ${rowCol('this.constants.NC')}
  const NC = this.constants.NC;
  let mx = cmax[r * NC];
  for (let j = 1; j < NC; j++) {
    mx = Math.max(mx, cmax[r * NC + j]);
  }
  const k0 = c * this.constants.CH;
  const k1 = Math.min(k0 + this.constants.CH, this.constants.V);
  let s = 0;
  for (let k = k0; k < k1; k++) {
    s += Math.exp(x[r][k] - mx);
  }
  return s;
}`;

// output [mb]
const LSE = `function (cmax, csum) {
  const r = this.thread.x;
  const NC = this.constants.NC;
  let mx = cmax[r * NC];
  for (let j = 1; j < NC; j++) {
    mx = Math.max(mx, cmax[r * NC + j]);
  }
  let s = 0;
  for (let j2 = 0; j2 < NC; j2++) {
    s += csum[r * NC + j2];
  }
  return mx + Math.log(s);
}`;

const OUT = `function (x, lse) {
  ${rowCol('this.constants.V')}
  return x[r][c] - lse[r];
}`;

export const logSoftmax: KernelSet['logSoftmax'] = (out, inp, m, V) => {
  if (m === 0) return;
  const mb = bucket(m), NC = Math.ceil(V / CH), consts = { V, CH, NC };
  const x = as2d(padded('logSoftmax.inp', inp, m * V, mb * V), V, mb);
  const cmax = runKernel(kernelFor(`logSoftmax.max|${mb}|${V}`, CHUNK_MAX, mb * NC, consts), x);
  const csum = runKernel(kernelFor(`logSoftmax.sum|${mb}|${V}`, CHUNK_SUM, mb * NC, consts), x, cmax);
  const lse = runKernel(kernelFor(`logSoftmax.lse|${mb}|${V}`, LSE, mb, consts), cmax, csum);
  const r = runKernel(kernelFor(`logSoftmax.out|${mb}|${V}`, OUT, mb * V, consts), x, lse);
  out.set(r.subarray(0, m * V));
};

