// Reference tied LM head: logits[r, v] = Σ_c inp[r, c] · wte[v, c].   [m, C] → [m, V] (row stride ldo)
import type { KernelSet } from '../names.js';

export const lmHead: KernelSet['lmHead'] = (out, inp, wte, m, C, V, ldo = V) => {
  for (let r = 0; r < m; r++) {
    const x = r * C, o = r * ldo;
    for (let v = 0; v < V; v++) {
      const w = v * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += inp[x + c] * wte[w + c];
      out[o + v] = s;
    }
  }
};

