// Native logSoftmax: row-wise log-softmax, Σ exp in f64 (native/kernels.cc logsoftmax_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const logSoftmax: KernelSet['logSoftmax'] = (out, inp, m, V) => addon().logSoftmax(out, inp, m, V);

export const logSoftmaxConfig: KernelConfig<'logSoftmax'> = { backend: 'native', op: 'logSoftmax', fn: logSoftmax };
