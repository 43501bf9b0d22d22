// Native gelu: tanh-approximation GELU, vectorized tanh via exp on AVX2 (native/simd_avx2.cc); a
// column range loops rows in C++.
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const gelu: KernelSet['gelu'] = (out, inp, len, W, j0, j1) => addon().gelu(out, inp, len, W, j0, j1);
