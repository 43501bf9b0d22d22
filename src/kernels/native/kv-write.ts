// Native kvWrite: copies each row's k and v (channels [c0, c1)) into its cache slot (native/kernels.cc kvwrite_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, C, c0, c1) => addon().kvWrite(qkv, kCache, vCache, slots, n, C, c0, c1);

export const kvWriteConfig: KernelConfig<'kvWrite'> = { backend: 'native', op: 'kvWrite', fn: kvWrite };
