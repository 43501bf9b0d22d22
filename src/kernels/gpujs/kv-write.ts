// gpu.js KV write. A gpu.js kernel cannot scatter into caller-owned memory (its output is a fresh
// array), so the kernel gathers each row's k|v halves of qkv into [n, 2C] and the host copies each
// row into its cache slot (two memcpys per row; of channels [c0, c1) only, when given).   [n, 3C] → kCache/vCache[slots[r]]
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (qkv) {
  ${rowCol('this.constants.C2')}
  return qkv[r][this.constants.C + c];
}`;

export const kvWrite: KernelSet['kvWrite'] = (qkv, kCache, vCache, slots, n, C, c0 = 0, c1 = C) => {
  if (n === 0 || c1 === c0) return;
  const nb = bucket(n), C2 = 2 * C;
  const k = kernelFor(`kvWrite|${nb}|${C}`, SOURCE, nb * C2, { C, C2 });
  const r = runKernel(k, as2d(padded('kvWrite.qkv', qkv, n * 3 * C, nb * 3 * C), 3 * C, nb));
  for (let i = 0; i < n; i++) {
    const dst = slots[i] * C + c0, src = i * C2 + c0, w = c1 - c0;
    kCache.set(r.subarray(src, src + w), dst);
    vCache.set(r.subarray(src + C, src + C + w), dst);
  }
};

export const kvWriteConfig: KernelConfig<'kvWrite'> = { backend: 'gpujs', op: 'kvWrite', fn: kvWrite };
