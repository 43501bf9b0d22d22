// Reference LayerNorm, biased variance, statistics accumulated in f64.   [n, C] → [n, C]
import type { KernelSet } from '../names.js';

export const layernorm: KernelSet['layernorm'] = (out, inp, w, b, n, C, eps) => {
  for (let r = 0; r < n; r++) {
    const o = r * C;
    let mean = 0;
    for (let c = 0; c < C; c++) mean += inp[o + c];
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[o + c] - mean;
      v += d * d;
    }
    const rstd = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = (inp[o + c] - mean) * rstd * w[c] + b[c];
  }
};

