// Native residual: out = a + b elementwise (native/kernels.cc residual_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const residual: KernelSet['residual'] = (out, a, b, len) => addon().residual(out, a, b, len);

export const residualConfig: KernelConfig<'residual'> = { backend: 'native', op: 'residual', fn: residual };
