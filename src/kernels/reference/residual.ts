// Reference residual add: out = a + b.
import type { KernelSet } from '../names.js';

export const residual: KernelSet['residual'] = (out, a, b, len) => {
  for (let i = 0; i < len; i++) out[i] = a[i] + b[i];
};

