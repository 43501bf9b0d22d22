// gpu.js LayerNorm, biased variance.   [n, C] → [n, C]
// Two kernels: per-row statistics (one thread per row: mean, then Σ(x−mean)² — two-pass, like the
// reference), then one thread per element. Statistics accumulate in the mode's float (f32 on
// headlessgl/webasm, f64 on cpu) where the reference uses f64.
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

// output [2·nb]: cell 2r = mean of row r, cell 2r+1 = rstd of row r
const STATS = `function (x, eps) {
  ${rowCol('2')}
  const C = this.constants.C;
  let mean = 0;
  for (let k = 0; k < C; k++) {
    mean += x[r][k];
  }
  mean = mean / C;
  if (c == 0) {
    return mean;
  }
  let v = 0;
  for (let k2 = 0; k2 < C; k2++) {
    const d = x[r][k2] - mean;
    v += d * d;
  }
  return 1 / Math.sqrt(v / C + eps);
}`;

const NORM = `function (x, stats, w, b) {
  ${rowCol('this.constants.C')}
  return (x[r][c] - stats[2 * r]) * stats[2 * r + 1] * w[c] + b[c];
}`;

export const layernorm: KernelSet['layernorm'] = (out, inp, w, b, n, C, eps) => {
  if (n === 0) return;
  const nb = bucket(n);
  const x = as2d(padded('layernorm.inp', inp, n * C, nb * C), C, nb);
  const stats = runKernel(kernelFor(`layernorm.stats|${nb}|${C}`, STATS, 2 * nb, { C }), x, eps);
  const norm = kernelFor(`layernorm.norm|${nb}|${C}`, NORM, nb * C, { C });
  const r = runKernel(norm, x, stats, w.length === C ? w : w.subarray(0, C), b.length === C ? b : b.subarray(0, C));
  out.set(r.subarray(0, n * C));
};

