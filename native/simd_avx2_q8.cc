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
