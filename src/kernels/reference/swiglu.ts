// Reference SwiGLU: out[r, j] = silu(g) · u with g = gu[r, j], u = gu[r, I + j], silu(g) = g / (1 + e^-g)
// in f64 (e^-g = Infinity for a large negative g gives -0, not NaN).   [n, 2I] → [n, I]
import type { KernelSet } from '../names.js';

export const swiglu: KernelSet['swiglu'] = (out, gu, n, I, j0 = 0, j1 = I) => {
  for (let r = 0; r < n; r++) {
    const g = r * 2 * I, o = r * I;
    for (let j = j0; j < j1; j++) out[o + j] = (gu[g + j] / (1 + Math.exp(-gu[g + j]))) * gu[g + I + j];
  }
};
