// Reference matmul + bias, weights [I, O]: out = inp · w + bias (bias null: none).   [n, I] → [n, O]
// Loop order r, k, j walks w row by row; each out element sums k = 0..I-1 in order (batch-invariant).
import type { KernelSet } from '../names.js';

// With [j0, j1), w is the column shard [I, W = j1 - j0]: column j of the matrix is w[k·W + j - j0].
export const matmul: KernelSet['matmul'] = (out, inp, w, bias, n, I, O, j0 = 0, j1 = O) => {
  const W = j1 - j0;
  for (let r = 0; r < n; r++) {
    const o = r * O, x = r * I;
    for (let j = j0; j < j1; j++) out[o + j] = bias ? bias[j] : 0;
    for (let k = 0; k < I; k++) {
      const a = inp[x + k], wk = k * W - j0;
      for (let j = j0; j < j1; j++) out[o + j] += a * w[wk + j];
    }
  }
};

