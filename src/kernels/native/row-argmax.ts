// Native rowArgmax: 8-lane compare-and-blend with first-index tie-breaking, same result as the
// scalar definition (native/simd_avx2.cc, portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const rowArgmax: KernelSet['rowArgmax'] = (idx, max, inp, m, V, ld = V) => addon().rowArgmax(idx, max, inp, m, V, ld);

