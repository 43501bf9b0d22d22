// The load-time conversions, in one place: the native addon when it loads (on every core,
// F16C / vector quantization), else the TypeScript definitions in kernels/quant.ts. Both give the
// same bits (test/model/load-native.test.ts); only the time differs (GPT-2 small int8: ~2.4 s of
// JS loops, ~0.1 s native; bf16: 0.75 s of JS rounding, ~0.05 s native).
import { addonOrNull } from '../kernels/native/addon.js';
import { toBf16, toF16 } from '../kernels/f16.js';
import { q8Blocks, quantizeQ8, widen16, type Kind16 } from '../kernels/quant.js';

/** The kind of a checkpoint's values: f32, or a 16-bit type widened exactly. */
export type SrcKind = 'f32' | Kind16;

/** src as f32: itself, or its 16-bit values widened into a new array. */
function asF32(src: Float32Array | Uint16Array, kind: SrcKind): Float32Array {
  if (kind === 'f32') return src as Float32Array;
  const f = new Float32Array(src.length);
  widen16(f, src as Uint16Array, kind);
  return f;
}

/**
 * wq [O, I] int8, ws [O, ceil(I/32)] ← the rows of src [O, I] (a checkpoint's nn.Linear weight or
 * table rows, as stored) quantized as quantizeQ8 does. Returns the index of the first NaN or
 * ±Infinity in src, else -1 (the rows are quantized either way). Native: one pass over the
 * checkpoint's values on every core (SmolLM2-360M int8: widen, check and quantize passes over an
 * f32 copy took ~0.6 s of a ~0.9 s load).
 */
export function quantizeRowsFrom(wq: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, kind: SrcKind, I: number, O: number): number {
  const nat = addonOrNull();
  if (nat !== null) return nat.quantizeRowsQ8From(wq, ws, src, kind, I, O);
  const f = asF32(src, kind);
  quantizeQ8(wq, ws, f, O, I);
  return firstNonFinite(f, 0, f.length);
}

/** Index of the first NaN or ±Infinity in a[from, to), else -1 (every weight is checked at load:
 *  ~1.5 ns a weight in JS, 0.4 s of a 360M model's load; native, a vectorized scan). */
export function firstNonFinite(a: Float32Array, from: number, to: number): number {
  const nat = addonOrNull();
  if (nat !== null) return nat.firstNonFinite(a, from, to);
  for (let i = from; i < to; i++) {
    const v = a[i];
    if (v - v !== 0) return i; // NaN - NaN and Inf - Inf are NaN; finite - itself is 0
  }
  return -1;
}

/**
 * dest [inp, O] columns [col, col + out) ← src [out, inp] transposed (an nn.Linear weight into the
 * table's [in, out] order): f32, or 16-bit values copied in their checkpoint's own type.
 */
export function transposeInto<T extends Float32Array | Uint16Array>(dest: T, src: T, out: number, inp: number, O: number, col: number): void {
  const nat = addonOrNull();
  if (nat !== null && dest instanceof Float32Array) { nat.transposeInto(dest, src as Float32Array, out, inp, O, col); return; }
  if (nat !== null) { nat.transpose16Into(dest as Uint16Array, src as Uint16Array, out, inp, O, col); return; }
  for (let j = 0; j < out; j++) for (let i = 0; i < inp; i++) dest[i * O + col + j] = src[j * inp + i];
}

/**
 * Rows [i0, i0 + R) of a linear [I, O] held as its checkpoint's [in, out] (Conv1D), src [R, O] in f32
 * or 16 bits, into its columns' q8 rows wq [O, I], ws [O, ceil(I/32)]: the bytes quantizeRowsFrom
 * gives the transposed matrix in those 32-row blocks (each block is quantized on its own), so the
 * weight is quantized a chunk of the file at a time with no f32 [I, O] copy. i0 a multiple of 32. Returns the index in
 * src of the first NaN or ±Infinity, else -1.
 */
export function quantizeColsBand(wq: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, kind: SrcKind, I: number, O: number, i0: number): number {
  const nat = addonOrNull();
  if (nat !== null) return nat.quantizeColsBandQ8(wq, ws, src, kind, I, O, i0);
  const R = src.length / O, nb = q8Blocks(I), nbR = q8Blocks(R), f = asF32(src, kind);
  const t = new Float32Array(O * R), q = new Int8Array(O * R), s = new Float32Array(O * nbR);  // [O, R]: the band's columns as rows
  for (let r = 0; r < R; r++) for (let j = 0; j < O; j++) t[j * R + r] = f[r * O + j];
  quantizeQ8(q, s, t, O, R);
  for (let j = 0; j < O; j++) {
    wq.set(q.subarray(j * R, (j + 1) * R), j * I + i0);
    ws.set(s.subarray(j * nbR, (j + 1) * nbR), j * nb + i0 / 32);
  }
  return firstNonFinite(f, 0, f.length);
}

/** Index of the first ±Infinity or NaN among the 16-bit values a (exponent field all ones), else -1. */
export function firstNonFinite16(a: Uint16Array, kind: Kind16): number {
  const nat = addonOrNull();
  if (nat !== null) return nat.firstNonFinite16(a, kind);
  const ones = kind === 'f16' ? 0x7c00 : 0x7f80;
  return a.findIndex((h) => (h & ones) === ones);
}

/** out[i] = the exact f32 of the 16-bit src[i] (bf16 or IEEE f16), i < src.length. */
export function widen16Into(out: Float32Array, src: Uint16Array, kind: Kind16): void {
  const nat = addonOrNull();
  if (nat !== null) nat.widen16(out, src, kind, src.length);
  else widen16(out, src, kind);
}

/** out[i] = src[i] rounded to nearest even to bf16 or f16 bits (kernels/f16.ts toBf16 / toF16), i < src.length. */
export function narrow16Into(out: Uint16Array, src: Float32Array, kind: Kind16): void {
  const nat = addonOrNull();
  if (nat !== null) { nat.narrow16(out, src, kind, src.length); return; }
  const round = kind === 'bf16' ? toBf16 : toF16;
  for (let i = 0; i < src.length; i++) out[i] = round(src[i]);
}
