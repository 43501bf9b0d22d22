// Reference embedding: out[r] = wte[token] + wpe[pos] (wpe null: wte[token] alone).   [n] → [n, C]
// embeddingQ8: the same from Q8 rows (names.ts).
import type { KernelSet } from '../names.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => {
  for (let r = 0; r < n; r++) {
    const t = tokens[r] * C, o = r * C;
    if (!wpe) { for (let c = 0; c < C; c++) out[o + c] = wte[t + c]; continue; }
    const p = positions[r] * C;
    for (let c = 0; c < C; c++) out[o + c] = wte[t + c] + wpe[p + c];
  }
};


/** The int8 table: f32(q · d) per element (q · d is exact in f64, so one rounding), then + wpe. */
export const embeddingQ8: KernelSet['embeddingQ8'] = (out, tokens, positions, wq, ws, wpe, n, C) => {
  const nb = Math.ceil(C / 32);
  for (let r = 0; r < n; r++) {
    const t = tokens[r] * C, d = tokens[r] * nb, o = r * C, p = wpe ? positions[r] * C : 0;
    for (let c = 0; c < C; c++) {
      const v = Math.fround(wq[t + c] * ws[d + (c >> 5)]);
      out[o + c] = wpe ? v + wpe[p + c] : v;
    }
  }
};
