// Native matmul: out = inp · w + bias, w [I, O]; AVX2 6x16 packed tiles or row streaming, bit-identical per row whatever n (native/kernels.cc).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const matmul: KernelSet['matmul'] = (out, inp, w, bias, n, I, O, j0, j1) => addon().matmul(out, inp, w, bias, n, I, O, j0, j1);

export const matmulConfig: KernelConfig<'matmul'> = { backend: 'native', op: 'matmul', fn: matmul };
