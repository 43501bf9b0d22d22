// Native residual: out = a + b elementwise (native/portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const residual: KernelSet['residual'] = (out, a, b, len) => addon().residual(out, a, b, len);

