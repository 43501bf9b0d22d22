// Native lmHead: logits = inp · wteᵀ, 8-lane dot products streaming wte rows (native/simd_avx2_gemm.cc, portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const lmHead: KernelSet['lmHead'] = (out, inp, wte, m, C, V, ldo = V) => addon().lmHead(out, inp, wte, m, C, V, ldo);

