// Native gelu: tanh-approximation GELU, vectorized tanh via exp on AVX2 (native/simd_avx2.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const gelu: KernelSet['gelu'] = (out, inp, len) => addon().gelu(out, inp, len);

