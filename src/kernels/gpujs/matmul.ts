// gpu.js matmul + bias, weights [I, O]: out = inp · w + bias (bias null: zeros).   [n, I] → [n, O]
// One thread per output element; it starts from bias[j] and sums k = 0..I-1 in order, like the
// reference, so a row's result never depends on the other rows (or on the padding rows).
// A column range [j0, j1) runs the kernel over the column shard w [I, W = j1 - j0].
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (inp, w, bias) {
  ${rowCol('this.constants.W')}
  let s = bias[this.constants.J0 + c];
  for (let k = 0; k < this.constants.I; k++) {
    s += inp[r][k] * w[k][c];
  }
  return s;
}`;

const zeroRows = new Map<number, Float32Array>();
function zeros(O: number): Float32Array {
  let z = zeroRows.get(O);
  if (!z) zeroRows.set(O, (z = new Float32Array(O)));
  return z;
}

export const matmul: KernelSet['matmul'] = (out, inp, w, bias, n, I, O, j0 = 0, j1 = O) => {
  const W = j1 - j0;
  if (n === 0 || W === 0) return;
  const nb = bucket(n);
  const k = kernelFor(`matmul|${nb}|${I}|${O}|${j0}|${W}`, SOURCE, nb * W, { I, W, J0: j0 });
  const x = padded('matmul.inp', inp, n * I, nb * I);
  const b = bias ? (bias.length === O ? bias : bias.subarray(0, O)) : zeros(O);
  const r = runKernel(k, as2d(x, I, nb), as2d(w, W, I), b);
  if (W === O) out.set(r.subarray(0, n * O));
  else for (let i = 0; i < n; i++) out.set(r.subarray(i * W, (i + 1) * W), i * O + j0);
};

