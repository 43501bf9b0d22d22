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
// Q8 KV cache rows (kv_cache_dtype int8): a cache row of KV channels (KV a multiple of 32) is KV/32
// blocks of 36 bytes, [d f32 | 32 × q int8], each block the Q8 quantization above of its 32
// channels; channel c reads back as f32(q·d) (one f32 multiply: every path gets the same value).
// The scale stays f32 so that the cache shares the activation rows' quantizer (and its tests) on
// every path; an f16 scale would save 2 of 36 bytes.
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

/** Bytes per 32 channels of a Q8 KV cache row: an f32 scale, then 32 int8 values. */
export const KV8_BLOCK_BYTES = 36;

/** Bytes of a Q8 KV cache row of KV channels (KV a multiple of 32). */
export const kv8RowBytes = (KV: number): number => (KV / Q8_BLOCK) * KV8_BLOCK_BYTES;

/** The f32 view of a Q8 KV cache's bytes (its scales live at 4-byte-aligned offsets: blocks are 36 bytes). */
export function kv8Scales(cache: Int8Array): Float32Array {
  return new Float32Array(cache.buffer, cache.byteOffset, cache.length >> 2);
}

/** The 32 values x[from, from + 32) quantized into the Q8 KV block at byte offset `at` of cache. */
export function quantizeKv8Block(cache: Int8Array, scales: Float32Array, at: number, x: Float32Array, from: number): void {
  quantizeQ8(cache.subarray(at + 4, at + KV8_BLOCK_BYTES), scales.subarray(at >> 2, (at >> 2) + 1), x.subarray(from, from + Q8_BLOCK), 1, Q8_BLOCK);
}

/** out[0, len) = channels [c, c + len) of the Q8 KV row starting at byte `row` (c, len multiples of 32). */
export function dequantizeKv8(out: Float32Array, cache: Int8Array, scales: Float32Array, row: number, c: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const blk = row + ((c + i) >> 5) * KV8_BLOCK_BYTES;
    out[i] = Math.fround(cache[blk + 4 + ((c + i) & 31)] * scales[blk >> 2]);
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
