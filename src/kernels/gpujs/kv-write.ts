// gpu.js KV write. A gpu.js kernel cannot scatter into caller-owned memory (its output is a fresh
// array), so the kernel gathers each row's k|v parts of qkv into [n, 2·kvDim] and the host copies
// each row into its cache slot (two copies per row; of channels [c0, c1) only, when given),
// rounding to f16 for a Uint16Array cache, quantizing 32-channel blocks for an Int8Array one (names.ts KvCache).
// qkv rows [qDim q | kvDim k | kvDim v] → kCache/vCache[slots[r], kvDim]
import { toF16 } from '../f16.js';
import type { KernelSet, KvCache } from '../names.js';
import { kv8RowBytes, kv8Scales, KV8_BLOCK_BYTES, Q8_BLOCK, quantizeKv8Block } from '../quant.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (qkv) {
  ${rowCol('this.constants.KV2')}
  return qkv[r][this.constants.Q + c];
}`;

/** channels [c0, c0 + len) of cache row `slot` (rows of kvDim) ← src[s, s + len), rounded or quantized as the cache's type says */
function put(cache: KvCache, slot: number, c0: number, kvDim: number, src: Float32Array, s: number, len: number): void {
  const dst = slot * kvDim + c0;
  if (cache instanceof Float32Array) { cache.set(src.subarray(s, s + len), dst); return; }
  if (cache instanceof Uint16Array) { for (let i = 0; i < len; i++) cache[dst + i] = toF16(src[s + i]); return; }
  const scales = kv8Scales(cache), row = slot * kv8RowBytes(kvDim);
  for (let c = 0; c < len; c += Q8_BLOCK) quantizeKv8Block(cache, scales, row + ((c0 + c) / Q8_BLOCK) * KV8_BLOCK_BYTES, src, s + c);
}

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0 = 0, c1 = kvDim) => {
  if (n === 0 || c1 === c0) return;
  const nb = bucket(n), KV2 = 2 * kvDim, W = qDim + KV2;
  const k = kernelFor(`kvWrite|${nb}|${qDim}|${kvDim}`, SOURCE, nb * KV2, { Q: qDim, KV2 });
  const r = runKernel(k, as2d(padded('kvWrite.qkv', qkv, n * W, nb * W), W, nb));
  for (let i = 0; i < n; i++) {
    const src = i * KV2 + c0, w = c1 - c0;
    put(kCache, slots[i], c0, kvDim, r, src, w);
    put(vCache, slots[i], c0, kvDim, r, src + kvDim, w);
  }
};
