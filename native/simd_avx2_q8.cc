// The avx2-fma Path's Q8 block dots (maddubs: |w| u8 × x·sign(w) s8 → i16 pairs, ≤ 2·127² so
// never saturating, then madd with ones → i32) and 16-bit widening (F16C vcvtph2ps; bf16 by a shift).
#include <cstring>

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

// quantize_row_q8 (quant.cc) on 4 f64 lanes: amax by max_ps (exact for finite values), the same
// f32 scale, then |x| / d + 1/2 floored in f64, clamped to 127, signed: the same ops, so the same
// bits. A short last block goes to the scalar code.
PG_AVX2 void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I) {
  const i64 nb = (I + 31) / 32;
  const __m256 absf = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256d absd = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  for (i64 b = 0; b < nb; b++) {
    const float* xb = x + b * 32;
    if (b * 32 + 32 > I) { pg::quantize_row_q8(q + b * 32, d + b, xb, I - b * 32); continue; }
    __m256 v[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) m = _mm256_max_ps(m, _mm256_and_ps(v[i] = _mm256_loadu_ps(xb + 8 * i), absf));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    const float db = _mm_cvtss_f32(m4) / 127.0f;
    d[b] = db;
    int8_t* qb = q + b * 32;
    if (db == 0.0f) { std::memset(qb, 0, 32); continue; }
    const __m256d dd = _mm256_set1_pd((double)db), half = _mm256_set1_pd(0.5), lim = _mm256_set1_pd(127.0);
    for (int i = 0; i < 8; i++) {
      const __m128 x4 = i & 1 ? _mm256_extractf128_ps(v[i / 2], 1) : _mm256_castps256_ps128(v[i / 2]);
      const __m256d a = _mm256_and_pd(_mm256_cvtps_pd(x4), absd);
      const __m256d t = _mm256_min_pd(_mm256_floor_pd(_mm256_add_pd(_mm256_div_pd(a, dd), half)), lim);
      const __m128i k = _mm_sign_epi32(_mm256_cvttpd_epi32(t), _mm_castps_si128(x4));  // x < 0: −k (x = ±0 gives k = 0)
      const __m128i k16 = _mm_packs_epi32(k, k);
      const __m128i k8 = _mm_packs_epi16(k16, k16);
      const int32_t four = _mm_cvtsi128_si32(k8);
      std::memcpy(qb + 4 * i, &four, 4);
    }
  }
}

}  // namespace avx2
}  // namespace pg
#endif

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx2 {
namespace {

// 8 weights from 16-bit bits (load8); the tail variant reads only `rem` of them (zero-padded)
template <int KIND>
PG_AVX2_F16C inline __m256 ld16_tail(const uint16_t* p, i64 rem) {
  alignas(16) uint16_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (i64 i = 0; i < rem; i++) b[i] = p[i];
  return load8<uint16_t, KIND>(b);
}

// gemv_rows of simd_avx2_gemm.cc with 16-bit w: per out element, FMAs in k order, 4 k between a
// load and a store of out (the same chain as matmul's, so the same bits). Tail columns go through
// masked loads/stores of out, zero-padded weights.
template <int KIND, int KK>
PG_AVX2_F16C inline void gemv16_k(float* out, const float* x, const uint16_t* w, i64 n, i64 I, i64 k, i64 j0, i64 jw, i64 ldw, i64 ldo) {
  const i64 jv = jw & ~(i64)7;
  const __m256i m = tail_mask(jw - jv > 0 ? jw - jv : 1);
  const uint16_t* wk[KK];
  for (int q = 0; q < KK; q++) wk[q] = w + (k + q) * ldw + j0;
  for (i64 r = 0; r < n; r++) {
    __m256 a[KK];
    for (int q = 0; q < KK; q++) a[q] = _mm256_set1_ps(x[r * I + k + q]);
    float* o = out + r * ldo + j0;
    i64 j = 0;
    for (; j < jv; j += 8) {
      __m256 acc = _mm256_loadu_ps(o + j);
      for (int q = 0; q < KK; q++) acc = _mm256_fmadd_ps(a[q], load8<uint16_t, KIND>(wk[q] + j), acc);
      _mm256_storeu_ps(o + j, acc);
    }
    if (j < jw) {
      __m256 acc = _mm256_maskload_ps(o + j, m);
      for (int q = 0; q < KK; q++) acc = _mm256_fmadd_ps(a[q], ld16_tail<KIND>(wk[q] + j, jw - j), acc);
      _mm256_maskstore_ps(o + j, m, acc);
    }
  }
}

// gemv_rows of simd_avx2_gemm.cc with 16-bit w: per out element, FMAs in k order, 4 k between a
// load and a store of out (the same chain as matmul's, so the same bits). Tail columns go through
// masked loads/stores of out, zero-padded weights.
template <int KIND>
PG_AVX2_F16C void gemv16(float* out, const float* x, const uint16_t* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  const i64 JB = 1024;
  for (i64 j0 = 0; j0 < O; j0 += JB) {
    const i64 jw = j0 + JB < O ? JB : O - j0;
    i64 k = 0;
    for (; k + 4 <= I; k += 4) gemv16_k<KIND, 4>(out, x, w, n, I, k, j0, jw, ldw, ldo);
    for (; k < I; k++) gemv16_k<KIND, 1>(out, x, w, n, I, k, j0, jw, ldw, ldo);
  }
}

}  // namespace

// Up to 8 rows: registers widen (decode, measured faster than packing there); more rows: the
// packed GEMM, which widens while packing.
void matmul16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  if (n > gemv_max_rows() && gemm16_acc(out, x, w, kind, n, I, O, ldw, ldo)) return;
  if (kind == 0) gemv16<0>(out, x, w, n, I, O, ldw, ldo);
  else gemv16<1>(out, x, w, n, I, O, ldw, ldo);
}

}  // namespace avx2
}  // namespace pg
#endif
