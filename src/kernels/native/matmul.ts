// Native matmul: out = inp · w + bias, w [I, O]; AVX2 6x16 packed tiles or row streaming, bit-identical per row whatever n (native/simd_avx2_gemm.cc, drivers.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const matmul: KernelSet['matmul'] = (out, inp, w, bias, n, I, O, j0, j1) => addon().matmul(out, inp, w, bias, n, I, O, j0, j1);

