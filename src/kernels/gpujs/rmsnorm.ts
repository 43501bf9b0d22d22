// gpu.js RMSNorm (HF LlamaRMSNorm).   [n, C] → [n, C]
// Two kernels: per-row scale s = 1/√(Σx²/C + eps) (one thread per row, in index order), then one
// thread per element w · (x · s). The sum accumulates in the mode's float (f32 on headlessgl/webasm,
// f64 on cpu) where the reference sums 8 interleaved f64 partials. out may alias inp (the input is
// staged first).
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

// output [nb]: the scale of each row
const SCALE = `function (x, eps) {
  const C = this.constants.C;
  let ss = 0;
  for (let k = 0; k < C; k++) {
    ss += x[this.thread.x][k] * x[this.thread.x][k];
  }
  return 1 / Math.sqrt(ss / C + eps);
}`;

const NORM = `function (x, s, w) {
  ${rowCol('this.constants.C')}
  return w[c] * (x[r][c] * s[r]);
}`;

export const rmsnorm: KernelSet['rmsnorm'] = (out, inp, w, n, C, eps) => {
  if (n === 0) return;
  const nb = bucket(n);
  const x = as2d(padded('rmsnorm.inp', inp, n * C, nb * C), C, nb);
  const s = runKernel(kernelFor(`rmsnorm.scale|${nb}|${C}`, SCALE, nb, { C }), x, eps);
  const r = runKernel(kernelFor(`rmsnorm.norm|${nb}|${C}`, NORM, nb * C, { C }), x, s, w.length === C ? w : w.subarray(0, C));
  out.set(r.subarray(0, n * C));
};
