// IEEE binary16 (f16) and bfloat16 from f32: the rounding of 16-bit weights at load and of the f16
// KV cache (kvWrite into a Uint16Array cache). Widening back is exact: quant.ts f16Table32 / widen16.

const F = new Float32Array(1), U = new Uint32Array(F.buffer);

/** f32 → IEEE f16 bits, round to nearest even, with subnormals and overflow to ±inf (exact for values that came from f16). */
export function toF16(x: number): number {
  F[0] = x;
  const u = U[0], sign = (u >>> 16) & 0x8000, e = (u >>> 23) & 0xff;
  let m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const ex = e - 127 + 15;
  if (ex >= 31) return sign | 0x7c00;
  if (ex <= 0) {
    if (ex < -10) return sign;
    m |= 0x800000;
    const shift = 14 - ex, half = 1 << (shift - 1), rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (ex << 10) | (m >>> 13);
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** f32 → bf16 bits, round to nearest even (exact for values that came from bf16); a NaN stays a NaN. */
export function toBf16(x: number): number {
  F[0] = x;
  const u = U[0];
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}
