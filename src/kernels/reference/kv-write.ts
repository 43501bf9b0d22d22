// Reference KV write: the k and v parts of each row's qkv go to the row's cache slot, rounded to
// f16 when the cache is a Uint16Array, quantized by 32-channel blocks when it is an Int8Array
// (names.ts KvCache, quant.ts Q8 KV rows).
// qkv rows [qDim q | kvDim k | kvDim v] → kCache[slots[r], kvDim], vCache[slots[r], kvDim]
import { toF16 } from '../f16.js';
import type { KernelSet } from '../names.js';
import { kv8RowBytes, kv8Scales, KV8_BLOCK_BYTES, Q8_BLOCK, quantizeKv8Block } from '../quant.js';

const same = (x: number) => x;

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0 = 0, c1 = kvDim) => {
  const W = qDim + 2 * kvDim;
  if (kCache instanceof Int8Array) { kvWrite8(qkv, kCache, vCache as Int8Array, slots, n, qDim, kvDim, c0, c1); return; }
  const put = kCache instanceof Uint16Array ? toF16 : same;
  for (let r = 0; r < n; r++) {
    const src = r * W + qDim, dst = slots[r] * kvDim;
    for (let c = c0; c < c1; c++) {
      kCache[dst + c] = put(qkv[src + c]);
      vCache[dst + c] = put(qkv[src + kvDim + c]);
    }
  }
};

function kvWrite8(qkv: Float32Array, kc: Int8Array, vc: Int8Array, slots: Int32Array, n: number, qDim: number, kvDim: number, c0: number, c1: number): void {
  const W = qDim + 2 * kvDim, rb = kv8RowBytes(kvDim), [ks, vs] = [kv8Scales(kc), kv8Scales(vc)];
  for (let r = 0; r < n; r++) {
    for (let c = c0; c < c1; c += Q8_BLOCK) {
      const at = slots[r] * rb + (c / Q8_BLOCK) * KV8_BLOCK_BYTES;
      quantizeKv8Block(kc, ks, at, qkv, r * W + qDim + c);
      quantizeKv8Block(vc, vs, at, qkv, r * W + qDim + kvDim + c);
    }
  }
}

