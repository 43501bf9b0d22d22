// Reference row-wise log-softmax, max-subtracted, sum in f64.   [m, V] → [m, V]
import type { KernelSet } from '../names.js';

export const logSoftmax: KernelSet['logSoftmax'] = (out, inp, m, V) => {
  for (let r = 0; r < m; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (inp[o + v] > max) max = inp[o + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(inp[o + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[o + v] = inp[o + v] - lse;
  }
};

