// Reference embedding: out[r] = wte[token] + wpe[pos] (wpe null: wte[token] alone).   [n] → [n, C]
import type { KernelSet } from '../names.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => {
  for (let r = 0; r < n; r++) {
    const t = tokens[r] * C, o = r * C;
    if (!wpe) { for (let c = 0; c < C; c++) out[o + c] = wte[t + c]; continue; }
    const p = positions[r] * C;
    for (let c = 0; c < C; c++) out[o + c] = wte[t + c] + wpe[p + c];
  }
};

