// Native rmsnorm: Σx² in f64 as reference/rmsnorm.ts sumSquares8 sums it, then w · f32(x · s); bit-identical to
// reference/rmsnorm.ts on every SIMD path (native/drivers.cc rmsnorm).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const rmsnorm: KernelSet['rmsnorm'] = (out, inp, w, n, C, eps) => addon().rmsnorm(out, inp, w, n, C, eps);
