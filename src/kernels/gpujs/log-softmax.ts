// gpu.js row-wise log-softmax.   [m, V] → [m, V]; out may alias inp (the input is staged first).
// Two kernels: one thread per row computes lse = max + log Σ exp(x − max), then one thread per
// element writes x − lse.
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const LSE = `function (x) {
  const r = this.thread.x;
  const V = this.constants.V;
  let mx = x[r][0];
  for (let k = 1; k < V; k++) {
    mx = Math.max(mx, x[r][k]);
  }
  let s = 0;
  for (let k = 0; k < V; k++) {
    s += Math.exp(x[r][k] - mx);
  }
  return mx + Math.log(s);
}`;

const OUT = `function (x, lse) {
  ${rowCol('this.constants.V')}
  return x[r][c] - lse[r];
}`;

export const logSoftmax: KernelSet['logSoftmax'] = (out, inp, m, V) => {
  if (m === 0) return;
  const mb = bucket(m);
  const x = as2d(padded('logSoftmax.inp', inp, m * V, mb * V), V, mb);
  const lse = runKernel(kernelFor(`logSoftmax.lse|${mb}|${V}`, LSE, mb, { V }), x);
  const r = runKernel(kernelFor(`logSoftmax.out|${mb}|${V}`, OUT, mb * V, { V }), x, lse);
  out.set(r.subarray(0, m * V));
};

export const logSoftmaxConfig: KernelConfig<'logSoftmax'> = { backend: 'gpujs', op: 'logSoftmax', fn: logSoftmax };
