// Native gelu: tanh-approximation GELU, vectorized tanh via exp on AVX2 (native/kernels.cc).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const gelu: KernelSet['gelu'] = (out, inp, len) => addon().gelu(out, inp, len);

export const geluConfig: KernelConfig<'gelu'> = { backend: 'native', op: 'gelu', fn: gelu };
