// Reference KV write: the k and v parts of each row's qkv go to the row's cache slot.
// qkv rows [qDim q | kvDim k | kvDim v] → kCache[slots[r], kvDim], vCache[slots[r], kvDim]
import type { KernelSet } from '../names.js';

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0 = 0, c1 = kvDim) => {
  const W = qDim + 2 * kvDim;
  for (let r = 0; r < n; r++) {
    const src = r * W + qDim, dst = slots[r] * kvDim;
    for (let c = c0; c < c1; c++) {
      kCache[dst + c] = qkv[src + c];
      vCache[dst + c] = qkv[src + kvDim + c];
    }
  }
};
