// Native logSoftmax: row-wise log-softmax, Σ exp in f64 (native/simd_avx2.cc, portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const logSoftmax: KernelSet['logSoftmax'] = (out, inp, m, V) => addon().logSoftmax(out, inp, m, V);

