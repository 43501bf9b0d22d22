// Native kvWrite: copies each row's k and v (channels [c0, c1)) into its cache slot (native/portable.cc),
// or rounds them into an f16 cache (drivers.cc kvwrite16: the path's narrow16, F16C on avx2).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0, c1) =>
  addon().kvWrite(qkv, kCache, vCache, slots, n, qDim, kvDim, c0, c1);

