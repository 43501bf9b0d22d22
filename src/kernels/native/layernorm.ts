// Native layernorm: row-wise LayerNorm, statistics in f64 (native/kernels.cc layernorm_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const layernorm: KernelSet['layernorm'] = (out, inp, w, b, n, C, eps) => addon().layernorm(out, inp, w, b, n, C, eps);

export const layernormConfig: KernelConfig<'layernorm'> = { backend: 'native', op: 'layernorm', fn: layernorm };
