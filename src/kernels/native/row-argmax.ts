// Native rowArgmax: 8-lane compare-and-blend with first-index tie-breaking, same result as the
// scalar definition (native/kernels.cc argmax_row).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const rowArgmax: KernelSet['rowArgmax'] = (idx, max, inp, m, V) => addon().rowArgmax(idx, max, inp, m, V);

export const rowArgmaxConfig: KernelConfig<'rowArgmax'> = { backend: 'native', op: 'rowArgmax', fn: rowArgmax };
