// Native layernorm: row-wise LayerNorm, statistics in f64 (native/portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const layernorm: KernelSet['layernorm'] = (out, inp, w, b, n, C, eps) => addon().layernorm(out, inp, w, b, n, C, eps);

