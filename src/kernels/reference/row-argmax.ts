// Reference rowArgmax: the definition itself (names.ts).   [m, V] → idx [m], max [m]
import type { KernelSet } from '../names.js';

export const rowArgmax: KernelSet['rowArgmax'] = (idx, max, inp, m, V, ld = V) => {
  for (let r = 0; r < m; r++) {
    const o = r * ld;
    let best = inp[o], at = 0;
    for (let v = 1; v < V; v++) {
      if (inp[o + v] > best) { best = inp[o + v]; at = v; }
    }
    idx[r] = at;
    max[r] = best;
  }
};

