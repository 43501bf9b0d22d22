// The two load-time conversions, in one place: the native addon when it loads (on every core,
// F16C / vector quantization), else the TypeScript definitions in kernels/quant.ts. Both give the
// same bits (test/model/load-native.test.ts); only the time differs (GPT-2 small int8: ~2.4 s of
// JS loops, ~0.1 s native).
import { addonOrNull } from '../kernels/native/addon.js';
import { quantizeQ8, widen16, type Kind16 } from '../kernels/quant.js';

/**
 * wq [O, I] int8, ws [O, ceil(I/32)] ← w, quantized as quantizeQ8 does. w is a linear's [I, O]
 * (transposed here), or already [O, I] when `rows` (the LM head's rows).
 */
export function quantizeLinear(wq: Int8Array, ws: Float32Array, w: Float32Array, I: number, O: number, rows = false): void {
  const nat = addonOrNull();
  if (nat !== null) return nat.quantizeLinearQ8(wq, ws, w, I, O, rows);
  let t = w;
  if (!rows) {
    t = new Float32Array(I * O); // [O, I]
    for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) t[j * I + i] = w[i * O + j];
  }
  quantizeQ8(wq, ws, t, O, I);
}

/** out[i] = the exact f32 of the 16-bit src[i] (bf16 or IEEE f16), i < src.length. */
export function widen16Into(out: Float32Array, src: Uint16Array, kind: Kind16): void {
  const nat = addonOrNull();
  if (nat !== null) nat.widen16(out, src, kind, src.length);
  else widen16(out, src, kind);
}
