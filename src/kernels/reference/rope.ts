// Reference rotary embedding, HF rotate_half pairing (i with i + D/2), in place on the q heads
// [h0, h1) and the k heads [⌊h0/G⌋, ⌈h1/G⌉) they read of each qkv row (G = NH / NKV); with qNorm/kNorm (Qwen3)
// each head is first RMS-normalized over its D values like rmsnorm.ts. The f32 arithmetic of the
// rotation is spelled out (fround per product), so this matches the native backend bit for bit.
import type { KernelSet, RopeArgs } from '../names.js';
import { sumSquares8 } from './rmsnorm.js';

function head(a: RopeArgs, x: number, norm: Float32Array | null, cs: number): void {
  const { qkv, headDim: D } = a, half = D / 2;
  if (norm) {
    const s = 1 / Math.sqrt(sumSquares8(qkv, x, D) / D + a.eps);
    for (let i = 0; i < D; i++) qkv[x + i] = norm[i] * Math.fround(qkv[x + i] * s);
  }
  for (let i = 0; i < half; i++) {
    const p = qkv[x + i], q = qkv[x + half + i], c = a.cos[cs + i], s = a.sin[cs + i];
    qkv[x + i] = Math.fround(p * c) - Math.fround(q * s);
    qkv[x + half + i] = Math.fround(q * c) + Math.fround(p * s);
  }
}

export const rope: KernelSet['rope'] = (a) => {
  const { nHead: NH, nKvHead: NKV, headDim: D } = a;
  const W = (NH + 2 * NKV) * D, G = NH / NKV, h0 = a.h0 ?? 0, h1 = a.h1 ?? NH;
  for (let r = 0; r < a.n; r++) {
    const cs = a.positions[r] * (D / 2);
    for (let h = h0; h < h1; h++) head(a, r * W + h * D, a.qNorm, cs);
    for (let h = Math.floor(h0 / G); h < Math.ceil(h1 / G); h++) head(a, r * W + (NH + h) * D, a.kNorm, cs);
  }
};
