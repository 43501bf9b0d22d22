// Helpers shared by the AVX2/FMA translation units (simd_avx2*.cc); include only there.
#pragma once

#include "kernels.h"

#if PG_HAVE_AVX2_PATH
#include <immintrin.h>

#include <cstring>

namespace pg {
namespace avx2 {

PG_AVX2 inline __m256i tail_mask(i64 rem) {  // lanes < rem set (0 < rem < 8)
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), idx);
}

PG_AVX2 inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l0+l4 .. l3+l7
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                          // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// e^x for x ≤ 0, Cephes-style expf polynomial; accurate to ~2 ulp on [-88, 0] (x < -87.3 is
// clamped there: the result is then 2^-126-ish, never a denormal or 0)
PG_AVX2 inline __m256 exp_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// 8 / 1 values as f32: T = float as they are; T = uint16_t widened exactly (KIND 0 bf16: the bits
// shifted up; KIND 1 IEEE f16: vcvtph2ps). The one 16-bit loader of the avx2 and avx512 paths:
// weights (GEMV, GEMM packing) and the f16 KV cache.
template <typename T, int KIND>
PG_AVX2_F16C inline __m256 load8(const T* s) {
  if constexpr (sizeof(T) == 4) return _mm256_loadu_ps(reinterpret_cast<const float*>(s));
  else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    if constexpr (KIND == 0) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    else return _mm256_cvtph_ps(h);
  }
}
template <typename T, int KIND>
PG_AVX2_F16C inline float load1(const T* s) {
  if constexpr (sizeof(T) == 4) return *reinterpret_cast<const float*>(s);
  else if constexpr (KIND == 0) { const uint32_t u = (uint32_t)*s << 16; float f; std::memcpy(&f, &u, 4); return f; }
  else return _cvtsh_ss(*s);
}

// simd_avx2_gemm.cc
void matmul_acc(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
void lmhead(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V, i64 ldo);
i64 gemv_max_rows();  // rows up to which matmul_acc streams w (PIPEGPT_NATIVE_GEMV_MAX, default 4)
bool gemm16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
// simd_avx2_q8.cc
void q8_dots(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip);
void q8_combine(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb);
void matmul16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
void widen16(float* dst, const uint16_t* src, i64 len, int kind);
void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I);

}  // namespace avx2
}  // namespace pg
#endif
