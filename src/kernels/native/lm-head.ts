// Native lmHead: logits = inp · wteᵀ, 8-lane dot products streaming wte rows (native/kernels.cc lmhead).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const lmHead: KernelSet['lmHead'] = (out, inp, wte, m, C, V) => addon().lmHead(out, inp, wte, m, C, V);

export const lmHeadConfig: KernelConfig<'lmHead'> = { backend: 'native', op: 'lmHead', fn: lmHead };
