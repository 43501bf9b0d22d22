// IEEE binary16 ⇄ f32 in plain C++: the portable Path's f16 weights (widen16) and f16 KV cache (the
// avx2 Path uses F16C and must give the same bits). Widening is exact (subnormals, ±inf, NaN included); narrowing
// rounds to nearest even like src/kernels/f16.ts toF16: overflow → ±inf, f16 subnormals kept,
// NaN → the quiet NaN 0x7e00 with its sign.
#pragma once

#include <cstdint>
#include <cstring>

namespace pg {

inline float f16_to_f32(uint16_t h) {
  const uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 1023;
  uint32_t u;
  if (e == 31) u = s | 0x7f800000u | (m << 13);         // inf / NaN
  else if (e != 0) u = s | ((e + 112) << 23) | (m << 13);  // normal
  else {                                                 // subnormal: m · 2^-24, exact in f32
    const float v = (float)m * 5.9604644775390625e-8f;
    return s ? -v : v;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f32_to_f16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t sign = (u >> 16) & 0x8000, e = (u >> 23) & 0xff;
  uint32_t m = u & 0x7fffff;
  if (e == 0xff) return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
  const int ex = (int)e - 127 + 15;
  if (ex >= 31) return (uint16_t)(sign | 0x7c00);
  if (ex <= 0) {  // an f16 subnormal (or 0): the 24-bit significand shifted right, rounded
    if (ex < -10) return (uint16_t)sign;
    m |= 0x800000;
    const int shift = 14 - ex;
    const uint32_t half = 1u << (shift - 1), rest = m & ((1u << shift) - 1);
    uint32_t h = m >> shift;
    if (rest > half || (rest == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)ex << 10) | (m >> 13);  // a carry out of the mantissa bumps the exponent (up to inf)
  const uint32_t rest = m & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
  return (uint16_t)(sign | h);
}

// f32 → bf16 bits, round to nearest even; a NaN stays a (quiet) NaN (kernels/f16.ts toBf16)
inline uint16_t f32_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

}  // namespace pg
