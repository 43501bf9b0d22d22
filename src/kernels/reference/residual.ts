// Reference residual add: out = a + b (with W and [j0, j1): those columns of each row of W).
import type { KernelSet } from '../names.js';

export const residual: KernelSet['residual'] = (out, a, b, len, W = len, j0 = 0, j1 = W) => {
  for (let r = 0; r + W <= len && W > 0; r += W) {
    for (let i = r + j0; i < r + j1; i++) out[i] = a[i] + b[i];
  }
};
