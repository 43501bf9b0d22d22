// The avx2-fma Path's Q8 block dots (maddubs: |w| u8 × x·sign(w) s8 → i16 pairs, ≤ 2·127² so
// never saturating, then madd with ones → i32) and 16-bit widening (F16C vcvtph2ps; bf16 by a shift).
#include "simd_avx2.h"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx2 {
namespace {

#define PG_Q8_TARGET PG_AVX2
PG_AVX2 inline __m256i dot_maddubs(__m256i aw, __m256i sx) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
}
#define PG_Q8_DOT dot_maddubs
#include "simd_q8.h"

}  // namespace

void q8_dots(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) { q8_dots_simd(dst, xq, n, w, ldw, Ip); }

// the portable recipe on 2 × 8 lanes (separate mul, mul, add: no FMA, so the same bits)
PG_AVX2 void q8_combine(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (i64 b = 0; b < nb; b++) {
    const __m256 d = _mm256_set1_ps(xd[b]);
    const __m256 t0 = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(wsT + b * 16)), _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i*)(isum + b * 16))));
    const __m256 t1 = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(wsT + b * 16 + 8)), _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i*)(isum + b * 16 + 8))));
    s0 = _mm256_add_ps(s0, t0);
    s1 = _mm256_add_ps(s1, t1);
  }
  _mm256_storeu_ps(s, s0);
  _mm256_storeu_ps(s + 8, s1);
}

__attribute__((target("avx2,fma,f16c"))) void widen16(float* dst, const uint16_t* src, i64 len, int kind) {
  i64 i = 0;
  if (kind == 0) {
    for (; i + 8 <= len; i += 8) {
      const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(src + i)));
      _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
  } else {
    for (; i + 8 <= len; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + i))));
  }
  if (i < len) widen16_portable(dst + i, src + i, len - i, kind);
}

}  // namespace avx2
}  // namespace pg
#endif
