// The weight formats of the quantized matmuls (issue #12), one definition each, used at load and by
// every backend's matmulQ8 for its activation rows.
//
// Q8 (8-bit, blocks of 32 along the input axis): a matrix x [R, I] (weights in nn.Linear
// orientation [O, I], or activation rows [n, I]) becomes q [R, I] int8 and d [R, nb] f32 with
// nb = ceil(I / 32); block b of row r is columns [32b, min(32b + 32, I)) (the last may be shorter).
//   d = f32(max|x| / 127)   (max over the block; f32 division, correctly rounded)
//   q = sign(x) · min(127, floor(|x| / d + 1/2))   (|x| / d in f64: the exact quotient is never
//       within 2^-25 of a half-integer unless it is one, so this is round-to-nearest, ties away
//       from zero, of the exact x / d); d = 0 → q = 0. The clamp only acts when d is subnormal.
// Non-finite inputs are not supported (their blocks are unspecified).
//
// 16-bit (matmul16): w holds bf16 bits (the top half of an f32) or IEEE binary16 bits; both widen
// to f32 exactly (f16 subnormals, ±inf and NaN included).

export const Q8_BLOCK = 32;

/** Blocks per row of width I. */
export const q8Blocks = (I: number): number => Math.ceil(I / Q8_BLOCK);

/** wq [O, I] int8, ws [O, ceil(I/32)] f32 ← w [O, I] f32 (see the header for the exact rounding). */
export function quantizeQ8(wq: Int8Array, ws: Float32Array, w: Float32Array, O: number, I: number): void {
  const nb = q8Blocks(I);
  if (wq.length < O * I || ws.length < O * nb || w.length < O * I) throw new RangeError(`quantizeQ8: arrays too short for [${O}, ${I}]`);
  for (let j = 0; j < O; j++) {
    for (let b = 0; b < nb; b++) {
      const k0 = j * I + b * Q8_BLOCK, k1 = j * I + Math.min(I, (b + 1) * Q8_BLOCK);
      let amax = 0;
      for (let k = k0; k < k1; k++) amax = Math.max(amax, Math.abs(w[k]));
      const d = Math.fround(amax / 127);
      ws[j * nb + b] = d;
      for (let k = k0; k < k1; k++) {
        const x = w[k];
        const q = d === 0 ? 0 : Math.min(127, Math.floor(Math.abs(x) / d + 0.5));
        wq[k] = x < 0 ? -q : q;
      }
    }
  }
}

/** The f32 values of a Q8 matrix (q · d), for checks and for fallbacks that need f32 weights. */
export function dequantizeQ8(out: Float32Array, wq: Int8Array, ws: Float32Array, O: number, I: number): void {
  const nb = q8Blocks(I);
  for (let j = 0; j < O; j++) for (let k = 0; k < I; k++) out[j * I + k] = Math.fround(wq[j * I + k] * ws[j * nb + Math.floor(k / Q8_BLOCK)]);
}

export type Kind16 = 'bf16' | 'f16';

let f16Table: Float32Array | null = null;
/** f32 value of every f16 bit pattern (65536 entries, built once). */
export function f16Table32(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

/** out[i] = the f32 value of the 16-bit w[i] (exact). */
export function widen16(out: Float32Array, w: Uint16Array, kind: Kind16): void {
  if (kind === 'f16') {
    const t = f16Table32();
    for (let i = 0; i < w.length; i++) out[i] = t[w[i]];
  } else {
    const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < w.length; i++) u[i] = w[i] << 16;
  }
}
