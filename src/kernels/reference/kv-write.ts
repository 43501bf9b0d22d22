// Reference KV write: the k and v parts of each row's qkv go to the row's cache slot.
// [n, 3C] → kCache[slots[r], C], vCache[slots[r], C]
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, C, c0 = 0, c1 = C) => {
  for (let r = 0; r < n; r++) {
    const src = r * 3 * C, dst = slots[r] * C;
    for (let c = c0; c < c1; c++) {
      kCache[dst + c] = qkv[src + C + c];
      vCache[dst + c] = qkv[src + 2 * C + c];
    }
  }
};

export const kvWriteConfig: KernelConfig<'kvWrite'> = { backend: 'reference', op: 'kvWrite', fn: kvWrite };
