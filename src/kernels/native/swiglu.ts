// Native SwiGLU: silu(gate) · up with e^-|g| (never overflows); vector exp on AVX2 (native/simd_avx2.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const swiglu: KernelSet['swiglu'] = (out, gu, n, I, j0, j1) => addon().swiglu(out, gu, n, I, j0, j1);
