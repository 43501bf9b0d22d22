// gpu.js GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// tanh(u) is written 1 − 2/(e^{2u} + 1): GLSL ES 1.0 has no tanh, and this form saturates to ±1
// without NaN for large |u|. Elementwise; out may alias inp (the input is staged first). Every
// element is computed (one compiled shape); a column range copies only its columns out.
import type { KernelSet } from '../names.js';
import { bucket, copyColumns, kernelFor, padded, runKernel } from './context.js';

const SOURCE = `function (x) {
  const v = x[this.thread.x];
  const u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
  const th = 1 - 2 / (Math.exp(2 * u) + 1);
  return 0.5 * v * (1 + th);
}`;

export const gelu: KernelSet['gelu'] = (out, inp, len, W = len, j0 = 0, j1 = W) => {
  if (len === 0) return;
  const lb = bucket(len);
  const k = kernelFor(`gelu|${lb}`, SOURCE, lb, {});
  const r = runKernel(k, padded('gelu.inp', inp, len, lb));
  copyColumns(out, r, len, W, j0, j1);
};

