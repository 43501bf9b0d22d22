// Reference causal attention over the paged KV cache. Row r (sequence s, position p) attends to
// positions 0..p of s, whose keys/values sit at slot blockTable[s][t / bs]·bs + t % bs.
// Scores are scaled by 1/√D and soft-maxed in f64.   [n, 3C] → [n, C]
import type { KernelConfig } from '../registry.js';
import type { AttentionArgs, KernelSet } from '../names.js';

function slotOf(a: AttentionArgs, seq: number, t: number): number {
  const bs = a.blockSize;
  return a.blockTable[seq * a.maxBlocksPerSeq + Math.floor(t / bs)] * bs + (t % bs);
}

export const attention: KernelSet['attention'] = (a) => {
  const { out, qkv, kCache, vCache, C, nHead, scratch } = a;
  const D = C / nHead, scale = 1 / Math.sqrt(D), h0 = a.h0 ?? 0, h1 = a.h1 ?? nHead;
  for (let r = 0; r < a.n; r++) {
    const seq = a.seqIds[r], pos = a.positions[r];
    for (let h = h0; h < h1; h++) {
      const q = r * 3 * C + h * D;
      let max = -Infinity;
      for (let t = 0; t <= pos; t++) {
        const k = slotOf(a, seq, t) * C + h * D;
        let s = 0;
        for (let d = 0; d < D; d++) s += qkv[q + d] * kCache[k + d];
        scratch[t] = s * scale;
        if (scratch[t] > max) max = scratch[t];
      }
      let sum = 0;
      for (let t = 0; t <= pos; t++) sum += Math.exp(scratch[t] - max);
      const o = r * C + h * D;
      for (let d = 0; d < D; d++) out[o + d] = 0;
      for (let t = 0; t <= pos; t++) {
        const p = Math.exp(scratch[t] - max) / sum, v = slotOf(a, seq, t) * C + h * D;
        for (let d = 0; d < D; d++) out[o + d] += p * vCache[v + d];
      }
    }
  }
};

export const attentionConfig: KernelConfig<'attention'> = { backend: 'reference', op: 'attention', fn: attention };
