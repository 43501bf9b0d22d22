// gpu.js SwiGLU: out[r, j] = silu(g) · u, g = gu[r, j], u = gu[r, I + j], silu(g) = g / (1 + e^-g)
// written (g ≥ 0 ? g : g·e) / (1 + e) with e = e^-|g| ≤ 1, which never overflows.   [n, 2I] → [n, I]
// Every column is computed (one compiled shape); a range [j0, j1) copies only its columns out.
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (gu) {
  ${rowCol('this.constants.I')}
  const g = gu[r][c];
  const e = Math.exp(-Math.abs(g));
  let num = g;
  if (g < 0) {
    num = g * e;
  }
  return (num / (1 + e)) * gu[r][this.constants.I + c];
}`;

export const swiglu: KernelSet['swiglu'] = (out, gu, n, I, j0 = 0, j1 = I) => {
  if (n === 0 || j1 === j0) return;
  const nb = bucket(n);
  const k = kernelFor(`swiglu|${nb}|${I}`, SOURCE, nb * I, { I });
  const r = runKernel(k, as2d(padded('swiglu.gu', gu, n * 2 * I, nb * 2 * I), 2 * I, nb));
  if (j0 === 0 && j1 === I) { out.set(r.subarray(0, n * I)); return; }
  for (let i = 0; i < n; i++) out.set(r.subarray(i * I + j0, i * I + j1), i * I + j0);
};
