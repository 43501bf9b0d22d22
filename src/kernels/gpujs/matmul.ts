// gpu.js matmul + bias, weights [I, O] (HF Conv1D): out = inp · w + bias.   [n, I] → [n, O]
// One thread per output element; it starts from bias[j] and sums k = 0..I-1 in order, like the
// reference, so a row's result never depends on the other rows (or on the padding rows).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (inp, w, bias) {
  ${rowCol('this.constants.O')}
  let s = bias[c];
  for (let k = 0; k < this.constants.I; k++) {
    s += inp[r][k] * w[k][c];
  }
  return s;
}`;

export const matmul: KernelSet['matmul'] = (out, inp, w, bias, n, I, O) => {
  if (n === 0) return;
  const nb = bucket(n);
  const k = kernelFor(`matmul|${nb}|${I}|${O}`, SOURCE, nb * O, { I, O });
  const x = padded('matmul.inp', inp, n * I, nb * I);
  const r = runKernel(k, as2d(x, I, nb), as2d(w, O, I), bias.length === O ? bias : bias.subarray(0, O));
  out.set(r.subarray(0, n * O));
};

export const matmulConfig: KernelConfig<'matmul'> = { backend: 'gpujs', op: 'matmul', fn: matmul };
