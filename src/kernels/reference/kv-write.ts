// Reference KV write: the k and v parts of each row's qkv go to the row's cache slot, rounded to
// f16 when the cache is a Uint16Array (names.ts KvCache).
// qkv rows [qDim q | kvDim k | kvDim v] → kCache[slots[r], kvDim], vCache[slots[r], kvDim]
import { toF16 } from '../f16.js';
import type { KernelSet } from '../names.js';

const same = (x: number) => x;

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0 = 0, c1 = kvDim) => {
  const W = qDim + 2 * kvDim, put = kCache instanceof Uint16Array ? toF16 : same;
  for (let r = 0; r < n; r++) {
    const src = r * W + qDim, dst = slots[r] * kvDim;
    for (let c = c0; c < c1; c++) {
      kCache[dst + c] = put(qkv[src + c]);
      vCache[dst + c] = put(qkv[src + kvDim + c]);
    }
  }
};
