// Reference GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
import type { KernelSet } from '../names.js';

const S = Math.sqrt(2 / Math.PI);

export const gelu: KernelSet['gelu'] = (out, inp, len, W = len, j0 = 0, j1 = W) => {
  for (let r = 0; r + W <= len && W > 0; r += W) {
    for (let i = r + j0; i < r + j1; i++) {
      const x = inp[i];
      out[i] = 0.5 * x * (1 + Math.tanh(S * (x + 0.044715 * x * x * x)));
    }
  }
};
