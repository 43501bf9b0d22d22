// Reference embedding: out[r] = wte[token] + wpe[pos].   [n] → [n, C]
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => {
  for (let r = 0; r < n; r++) {
    const t = tokens[r] * C, p = positions[r] * C, o = r * C;
    for (let c = 0; c < C; c++) out[o + c] = wte[t + c] + wpe[p + c];
  }
};

export const embeddingConfig: KernelConfig<'embedding'> = { backend: 'reference', op: 'embedding', fn: embedding };
