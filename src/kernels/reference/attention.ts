// Reference causal grouped-query attention over the paged KV cache. Row r (sequence s, position p)
// attends to positions t0..p of s (t0 = p - window + 1 with a sliding window, else 0), whose
// keys/values sit at slot blockTable[s][t / bs]·bs + t % bs; query head h reads KV head h / G
// (G = NH / NKV). Scores are scaled by 1/√D and soft-maxed in f64. An f16 cache is read widened
// exactly, a q8 cache as f32(q·d) (KvCache), so either gives the f32 cache's result for the values
// read back.   [n, W] → [n, NH·D]
import type { AttentionArgs, KernelSet, KvCache } from '../names.js';
import { dequantizeKv8, f16Table32, kv8RowBytes, kv8Scales } from '../quant.js';

function slotOf(a: AttentionArgs, seq: number, t: number): number {
  const bs = a.blockSize;
  return a.blockTable[seq * a.maxBlocksPerSeq + Math.floor(t / bs)] * bs + (t % bs);
}

/** A reader of channels [off % KV, + D) of cache row ⌊off / KV⌋ as f32: views of an f32 cache, else the values read back into one buffer. */
function rowReader(cache: KvCache, KV: number, D: number): (off: number) => Float32Array {
  if (cache instanceof Float32Array) return (off) => cache.subarray(off, off + D);
  const buf = new Float32Array(D);
  if (cache instanceof Int8Array) {
    const scales = kv8Scales(cache), rb = kv8RowBytes(KV);
    return (off) => {
      dequantizeKv8(buf, cache, scales, Math.floor(off / KV) * rb, off % KV, D);
      return buf;
    };
  }
  const f = f16Table32();
  return (off) => {
    for (let d = 0; d < D; d++) buf[d] = f[cache[off + d]];
    return buf;
  };
}

export const attention: KernelSet['attention'] = (a) => {
  const { out, qkv, kCache, vCache, nHead: NH, nKvHead: NKV, headDim: D, scratch } = a;
  const W = (NH + 2 * NKV) * D, KV = NKV * D, G = NH / NKV;
  const scale = 1 / Math.sqrt(D), h0 = a.h0 ?? 0, h1 = a.h1 ?? NH, kRow = rowReader(kCache, KV, D), vRow = rowReader(vCache, KV, D);
  for (let r = 0; r < a.n; r++) {
    const seq = a.seqIds[r], pos = a.positions[r];
    const t0 = a.window > 0 ? Math.max(0, pos - a.window + 1) : 0;
    for (let h = h0; h < h1; h++) {
      const q = r * W + h * D, kh = Math.floor(h / G) * D;
      let max = -Infinity;
      for (let t = t0; t <= pos; t++) {
        const k = kRow(slotOf(a, seq, t) * KV + kh);
        let s = 0;
        for (let d = 0; d < D; d++) s += qkv[q + d] * k[d];
        scratch[t - t0] = s * scale;
        if (scratch[t - t0] > max) max = scratch[t - t0];
      }
      let sum = 0;
      for (let t = t0; t <= pos; t++) sum += Math.exp(scratch[t - t0] - max);
      const o = r * NH * D + h * D;
      for (let d = 0; d < D; d++) out[o + d] = 0;
      for (let t = t0; t <= pos; t++) {
        const p = Math.exp(scratch[t - t0] - max) / sum, v = vRow(slotOf(a, seq, t) * KV + kh);
        for (let d = 0; d < D; d++) out[o + d] += p * v[d];
      }
    }
  }
};
