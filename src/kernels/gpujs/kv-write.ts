// gpu.js KV write. A gpu.js kernel cannot scatter into caller-owned memory (its output is a fresh
// array), so the kernel gathers each row's k|v parts of qkv into [n, 2·kvDim] and the host copies
// each row into its cache slot (two copies per row; of channels [c0, c1) only, when given),
// rounding to f16 for a Uint16Array cache (names.ts KvCache).
// qkv rows [qDim q | kvDim k | kvDim v] → kCache/vCache[slots[r], kvDim]
import { toF16 } from '../f16.js';
import type { KernelSet, KvCache } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (qkv) {
  ${rowCol('this.constants.KV2')}
  return qkv[r][this.constants.Q + c];
}`;

/** cache[dst, dst + len) ← src[s, s + len), rounded to f16 for an f16 cache */
function put(cache: KvCache, dst: number, src: Float32Array, s: number, len: number): void {
  if (cache instanceof Float32Array) { cache.set(src.subarray(s, s + len), dst); return; }
  for (let i = 0; i < len; i++) cache[dst + i] = toF16(src[s + i]);
}

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, qDim, kvDim, c0 = 0, c1 = kvDim) => {
  if (n === 0 || c1 === c0) return;
  const nb = bucket(n), KV2 = 2 * kvDim, W = qDim + KV2;
  const k = kernelFor(`kvWrite|${nb}|${qDim}|${kvDim}`, SOURCE, nb * KV2, { Q: qDim, KV2 });
  const r = runKernel(k, as2d(padded('kvWrite.qkv', qkv, n * W, nb * W), W, nb));
  for (let i = 0; i < n; i++) {
    const dst = slots[i] * kvDim + c0, src = i * KV2 + c0, w = c1 - c0;
    put(kCache, dst, r, src, w);
    put(vCache, dst, r, src + kvDim, w);
  }
};
