// Reference RMSNorm (HF LlamaRMSNorm): s = 1/√(Σx²/C + eps) with Σx² in f64 in index order, then
// out = w · f32(x · s), the product with w an f32 product (the f64 product of two f32 values is
// exact, and storing rounds it once).   [n, C] → [n, C]; out may alias inp.
import type { KernelSet } from '../names.js';

export const rmsnorm: KernelSet['rmsnorm'] = (out, inp, w, n, C, eps) => {
  for (let r = 0; r < n; r++) {
    const o = r * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[o + c] * inp[o + c];
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = w[c] * Math.fround(inp[o + c] * s);
  }
};
