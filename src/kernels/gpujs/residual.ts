// gpu.js residual add: out = a + b, elementwise; out may alias a (inputs are staged first). Every
// element is computed; a column range copies only its columns out.
import type { KernelSet } from '../names.js';
import { bucket, copyColumns, kernelFor, padded, runKernel } from './context.js';

const SOURCE = `function (a, b) {
  return a[this.thread.x] + b[this.thread.x];
}`;

export const residual: KernelSet['residual'] = (out, a, b, len, W = len, j0 = 0, j1 = W) => {
  if (len === 0) return;
  const lb = bucket(len);
  const k = kernelFor(`residual|${lb}`, SOURCE, lb, {});
  const r = runKernel(k, padded('residual.a', a, len, lb), padded('residual.b', b, len, lb));
  copyColumns(out, r, len, W, j0, j1);
};

