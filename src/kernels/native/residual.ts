// Native residual: out = a + b elementwise (native/portable.cc); a column range loops rows in C++.
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const residual: KernelSet['residual'] = (out, a, b, len, W, j0, j1) => addon().residual(out, a, b, len, W, j0, j1);
