// The avx2-fma Path (kernels.h): elementwise ops, attention's inner loops, softmax, log-softmax,
// argmax; matmul and lmHead are in simd_avx2_gemm.cc. The table at the end is what dispatch.cc
// picks when the CPU has AVX2 and FMA.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "simd_avx2.h"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx2 {
namespace {

// ---- gelu: tanh via exp(-2|u|) --------------------------------------------------------------------
PG_AVX2 inline __m256 gelu_ps(__m256 x) {
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x), _mm256_mul_ps(x, x), x));
  const __m256 sign = _mm256_and_ps(u, _mm256_set1_ps(-0.0f));
  const __m256 au = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), u);
  const __m256 t = exp_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), au));  // (0, 1]
  const __m256 th = _mm256_div_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), t), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
  const __m256 tanh_u = _mm256_or_ps(th, sign);
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), tanh_u));
}

PG_AVX2 void gelu(float* out, const float* inp, i64 len) {
  i64 i = 0;
  for (; i + 8 <= len; i += 8) _mm256_storeu_ps(out + i, gelu_ps(_mm256_loadu_ps(inp + i)));
  if (i < len) {
    const __m256i m = tail_mask(len - i);
    _mm256_maskstore_ps(out + i, m, gelu_ps(_mm256_maskload_ps(inp + i, m)));
  }
}

// ---- swiglu: the portable recipe (kernels.h) with exp_ps; e^-|g| ∈ (0, 1] never overflows -------
PG_AVX2 inline __m256 swiglu_ps(__m256 g, __m256 u) {
  const __m256 e = exp_ps(_mm256_or_ps(g, _mm256_set1_ps(-0.0f)));  // e^-|g|
  const __m256 neg = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_LT_OQ);
  const __m256 num = _mm256_blendv_ps(g, _mm256_mul_ps(g, e), neg);
  return _mm256_mul_ps(_mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

PG_AVX2 void swiglu(float* o, const float* g, const float* u, i64 len) {
  i64 j = 0;
  for (; j + 8 <= len; j += 8) _mm256_storeu_ps(o + j, swiglu_ps(_mm256_loadu_ps(g + j), _mm256_loadu_ps(u + j)));
  if (j < len) {
    const __m256i m = tail_mask(len - j);
    _mm256_maskstore_ps(o + j, m, swiglu_ps(_mm256_maskload_ps(g + j, m), _mm256_maskload_ps(u + j, m)));
  }
}

// ---- rmsnorm / rope: the portable arithmetic exactly (f64 product rounded to f32; no FMA) ---------
PG_AVX2 void scale_mul(float* o, const float* x, const float* w, double s, i64 len) {
  const __m256d vs = _mm256_set1_pd(s);
  i64 c = 0;
  for (; c + 8 <= len; c += 8) {
    const __m256 xv = _mm256_loadu_ps(x + c);
    const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(xv)), vs));
    const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)), vs));
    _mm256_storeu_ps(o + c, _mm256_mul_ps(_mm256_loadu_ps(w + c), _mm256_set_m128(hi, lo)));
  }
  for (; c < len; c++) o[c] = w[c] * (float)((double)x[c] * s);
}

PG_AVX2 void rotate_half(float* x, const float* cos, const float* sin, i64 half) {
  float* a = x;
  float* b = x + half;
  i64 i = 0;
  for (; i + 8 <= half; i += 8) {
    const __m256 xa = _mm256_loadu_ps(a + i), xb = _mm256_loadu_ps(b + i);
    const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
    _mm256_storeu_ps(a + i, _mm256_sub_ps(_mm256_mul_ps(xa, c), _mm256_mul_ps(xb, s)));
    _mm256_storeu_ps(b + i, _mm256_add_ps(_mm256_mul_ps(xb, c), _mm256_mul_ps(xa, s)));
  }
  for (; i < half; i++) {
    const float xa = a[i], xb = b[i];
    a[i] = xa * cos[i] - xb * sin[i];
    b[i] = xb * cos[i] + xa * sin[i];
  }
}

// ---- attention helpers --------------------------------------------------------------------------
// The KV cache is f32 or IEEE f16 bits (E = float | uint16_t); f16 is widened exactly (vcvtph2ps),
// so both run the same f32 arithmetic on the same values.
PG_AVX2_F16C inline __m256 ld8(const float* p) { return load8<float, -1>(p); }
PG_AVX2_F16C inline __m256 ld8(const uint16_t* p) { return load8<uint16_t, 1>(p); }
// the first rem (0 < rem < 8) elements, the other lanes 0 (m = tail_mask(rem))
PG_AVX2_F16C inline __m256 ld8_tail(const float* p, i64, __m256i m) { return _mm256_maskload_ps(p, m); }
PG_AVX2_F16C inline __m256 ld8_tail(const uint16_t* p, i64 rem, __m256i) {
  alignas(16) uint16_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(b, p, (size_t)rem * sizeof(uint16_t));
  return ld8(b);
}

// The q8 cache's loops, block by block: a block's scale is broadcast once for its 4 chunks of 8
// (a per-chunk loader computing the block address and broadcasting each time, ~10 ops a chunk
// against f16's 2, made a SmolLM2-360M prefill ~10 % slower than with an f16 cache). Each chunk is
// f32(q·d) (vmulps: the scalar KvQ8[]'s multiply) and the FMAs run in the generic loops' order:
// the same bits as an f32 cache holding those values.
PG_AVX2_F16C inline __m256 deq8(const uint8_t* blk, int j, __m256 d) {
  const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 4 + j));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
}
PG_AVX2_F16C inline __m256 scale8(const uint8_t* blk) { float d; std::memcpy(&d, blk, 4); return _mm256_set1_ps(d); }

// dots4 over 4 q8 rows (D a multiple of 32, rows block-aligned)
PG_AVX2_F16C void dots4_q8(const float* q, const KvQ8* k, i64 D, float* s) {
  __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  const uint8_t* b[4] = {k[0].block(), k[1].block(), k[2].block(), k[3].block()};
  for (i64 d = 0; d < D; d += 32) {
    const __m256 sc[4] = {scale8(b[0]), scale8(b[1]), scale8(b[2]), scale8(b[3])};
    for (int j = 0; j < 32; j += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d + j);
      for (int i = 0; i < 4; i++) a[i] = _mm256_fmadd_ps(qv, deq8(b[i], j, sc[i]), a[i]);
    }
    for (int i = 0; i < 4; i++) b[i] += KvQ8::kBlockBytes;
  }
  for (int i = 0; i < 4; i++) s[i] = hsum8(a[i]);
}

// weighted_sum over q8 rows: NCH full chunks from d0 (a multiple of 32; D - d0 ≥ 8·NCH)
template <int NCH>
PG_AVX2_F16C void weighted_sum_q8(float* o, KvQ8 vc, const i64* voff, const float* p, i64 T, i64 d0) {
  __m256 acc[NCH];
  for (int c = 0; c < NCH; c++) acc[c] = _mm256_loadu_ps(o + d0 + c * 8);
  for (i64 t = 0; t < T; t++) {
    const __m256 pv = _mm256_set1_ps(p[t]);
    const uint8_t* blk = (vc + voff[t] + d0).block();
    __m256 sc = scale8(blk);
    for (int c = 0; c < NCH; c++) {
      if (c > 0 && c % 4 == 0) sc = scale8(blk += KvQ8::kBlockBytes);
      acc[c] = _mm256_fmadd_ps(pv, deq8(blk, (c % 4) * 8, sc), acc[c]);
    }
  }
  for (int c = 0; c < NCH; c++) _mm256_storeu_ps(o + d0 + c * 8, acc[c]);
}

template <typename P>  // const float*, const uint16_t* or KvQ8
PG_AVX2_F16C void dots4(const float* q, P k0, P k1, P k2, P k3, i64 D, float* s) {
  if constexpr (std::is_same_v<P, KvQ8>) {
    const KvQ8 k[4] = {k0, k1, k2, k3};
    dots4_q8(q, k, D, s);
  } else {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    i64 d = 0;
    for (; d + 8 <= D; d += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d);
      a0 = _mm256_fmadd_ps(qv, ld8(k0 + d), a0);
      a1 = _mm256_fmadd_ps(qv, ld8(k1 + d), a1);
      a2 = _mm256_fmadd_ps(qv, ld8(k2 + d), a2);
      a3 = _mm256_fmadd_ps(qv, ld8(k3 + d), a3);
    }
    if (d < D) {
      const i64 rem = D - d;
      const __m256i m = tail_mask(rem);
      const __m256 qv = _mm256_maskload_ps(q + d, m);
      a0 = _mm256_fmadd_ps(qv, ld8_tail(k0 + d, rem, m), a0);
      a1 = _mm256_fmadd_ps(qv, ld8_tail(k1 + d, rem, m), a1);
      a2 = _mm256_fmadd_ps(qv, ld8_tail(k2 + d, rem, m), a2);
      a3 = _mm256_fmadd_ps(qv, ld8_tail(k3 + d, rem, m), a3);
    }
    s[0] = hsum8(a0); s[1] = hsum8(a1); s[2] = hsum8(a2); s[3] = hsum8(a3);
  }
}

template <typename P, int NCH>
PG_AVX2_F16C void weighted_sum(float* o, P vc, const i64* voff, const float* p, i64 T, i64 D, i64 d0) {
  if constexpr (std::is_same_v<P, KvQ8>) {
    weighted_sum_q8<NCH>(o, vc, voff, p, T, d0);  // D - d0 ≥ 8·NCH here
  } else {
    const i64 rem = D - d0 - (NCH - 1) * 8;  // lanes used in the last chunk (1..8)
    const __m256i m = tail_mask(rem < 8 ? rem : 7);
    const bool full = rem >= 8;
    __m256 acc[NCH];  // the chains continue from o (0 before the first block of keys)
    for (int c = 0; c < NCH - 1; c++) acc[c] = _mm256_loadu_ps(o + d0 + c * 8);
    acc[NCH - 1] = full ? _mm256_loadu_ps(o + d0 + (NCH - 1) * 8) : _mm256_maskload_ps(o + d0 + (NCH - 1) * 8, m);
    for (i64 t = 0; t < T; t++) {
      const __m256 pv = _mm256_set1_ps(p[t]);
      const P v = vc + voff[t] + d0;
      for (int c = 0; c < NCH - 1; c++) acc[c] = _mm256_fmadd_ps(pv, ld8(v + c * 8), acc[c]);
      const __m256 last = full ? ld8(v + (NCH - 1) * 8) : ld8_tail(v + (NCH - 1) * 8, rem, m);
      acc[NCH - 1] = _mm256_fmadd_ps(pv, last, acc[NCH - 1]);
    }
    for (int c = 0; c < NCH - 1; c++) _mm256_storeu_ps(o + d0 + c * 8, acc[c]);
    if (full) _mm256_storeu_ps(o + d0 + (NCH - 1) * 8, acc[NCH - 1]);
    else _mm256_maskstore_ps(o + d0 + (NCH - 1) * 8, m, acc[NCH - 1]);
  }
}

// max over x[0..n): 8 lanes, then the lanes and the tail in order.
PG_AVX2 float row_max(const float* x, i64 n) {
  __m256 vmx = _mm256_set1_ps(-INFINITY);
  i64 i = 0;
  for (; i + 8 <= n; i += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmx);
  float mx = -INFINITY;
  for (int l = 0; l < 8; l++) mx = lanes[l] > mx ? lanes[l] : mx;
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// Σ exp(x[i] - mx) in f64: exp_ps on 8 lanes (two f64 accumulators), exp on the tail. With e,
// each exp(x[i] - mx) is also stored to e[i] (e may be x).
PG_AVX2 double exp_sum(const float* x, float mx, i64 n, float* e) {
  const __m256 vm = _mm256_set1_ps(mx);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));  // arguments ≤ 0
    if (e) _mm256_storeu_ps(e + i, v);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  alignas(32) double d[4];
  _mm256_store_pd(d, _mm256_add_pd(s0, s1));
  double sum = (d[0] + d[1]) + (d[2] + d[3]);
  for (; i < n; i++) {
    const float v = std::exp(x[i] - mx);
    if (e) e[i] = v;
    sum += v;
  }
  return sum;
}

// Softmax of one row of T scores in place: e = exp(s - max), then e · (1/Σ e) in f64 rounded to
// f32 — the scalar recipe with a vector exp.
PG_AVX2 void softmax_row(float* sc, i64 T) {
  const double inv = 1.0 / exp_sum(sc, row_max(sc, T), T, sc);
  const __m256d vinv = _mm256_set1_pd(inv);
  i64 t = 0;
  for (; t + 4 <= T; t += 4)
    _mm_storeu_ps(sc + t, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(sc + t)), vinv)));
  for (; t < T; t++) sc[t] = (float)(sc[t] * inv);
}

// log-softmax of one row: out = x - (max + log Σ exp(x - max)). Scoring runs it over all V columns
// of every scored token (48k × 50257 for the shipped model's validation split), so the
// exponentials dominate unless vectorized. o may be x.
PG_AVX2 void logsoftmax_row(float* o, const float* x, i64 V) {
  const float mx = row_max(x, V);
  const double lse = (double)mx + std::log(exp_sum(x, mx, V, nullptr));
  for (i64 v = 0; v < V; v++) o[v] = (float)((double)x[v] - lse);
}

// rowArgmax of one row, the scalar recipe's result (see argmax_row_portable): 8 lanes keep the
// first index of their largest value (ordered compare: NaN never wins), then the lanes are merged
// (largest value, ties to the smaller index) against x[0], then the tail in order.
PG_AVX2 void argmax_row(const float* x, i64 V, int32_t* idx, float* mx) {
  float best = x[0];
  int32_t at = 0;
  if (best == best) {
    __m256 bv = _mm256_set1_ps(-INFINITY);
    __m256i bi = _mm256_set1_epi32(-1), iv = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i step = _mm256_set1_epi32(8);
    i64 i = 0;
    for (; i + 8 <= V; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      const __m256 gt = _mm256_cmp_ps(v, bv, _CMP_GT_OQ);
      bv = _mm256_blendv_ps(bv, v, gt);
      bi = _mm256_blendv_epi8(bi, iv, _mm256_castps_si256(gt));
      iv = _mm256_add_epi32(iv, step);
    }
    alignas(32) float lv[8];
    alignas(32) int32_t li[8];
    _mm256_store_ps(lv, bv);
    _mm256_store_si256(reinterpret_cast<__m256i*>(li), bi);
    for (int l = 0; l < 8; l++)
      if (li[l] >= 0 && (lv[l] > best || (lv[l] == best && li[l] < at))) { best = lv[l]; at = li[l]; }
    for (; i < V; i++) if (x[i] > best) { best = x[i]; at = (int32_t)i; }
  }
  *idx = at;
  *mx = best;
}


// ---- attention of one (row, head) ---------------------------------------------------------------
template <typename P>
PG_AVX2_F16C void attn_scores(float* sc, const float* q, P k, const i64* off, i64 T, i64 D, float scale) {
  i64 t = 0;
  for (; t + 4 <= T; t += 4) dots4(q, k + off[t], k + off[t + 1], k + off[t + 2], k + off[t + 3], D, sc + t);
  for (; t < T; t++) {
    float tmp[4];
    const P kt = k + off[t];
    dots4(q, kt, kt, kt, kt, D, tmp);
    sc[t] = tmp[0];
  }
  for (t = 0; t < T; t++) sc[t] *= scale;
}

// o += Σ_t p[t]·v_t: D in chunks of up to 64 columns (8 accumulators of 8 lanes), one FMA per t in order
template <typename P>
PG_AVX2_F16C void attn_values(float* o, P v, const i64* off, const float* p, i64 T, i64 D) {
  for (i64 d0 = 0; d0 < D; d0 += 64) {
    const int nch = (int)((D - d0 + 7) / 8 < 8 ? (D - d0 + 7) / 8 : 8);
    switch (nch) {
      case 8: weighted_sum<P, 8>(o, v, off, p, T, D, d0); break;
      case 7: weighted_sum<P, 7>(o, v, off, p, T, D, d0); break;
      case 6: weighted_sum<P, 6>(o, v, off, p, T, D, d0); break;
      case 5: weighted_sum<P, 5>(o, v, off, p, T, D, d0); break;
      case 4: weighted_sum<P, 4>(o, v, off, p, T, D, d0); break;
      case 3: weighted_sum<P, 3>(o, v, off, p, T, D, d0); break;
      case 2: weighted_sum<P, 2>(o, v, off, p, T, D, d0); break;
      default: weighted_sum<P, 1>(o, v, off, p, T, D, d0); break;
    }
  }
}

// f32 → f16 bits, round to nearest even (vcvtps2ph); the tail through a zero-padded block
PG_AVX2_F16C void narrow16(uint16_t* dst, const float* src, i64 len) {
  i64 i = 0;
  for (; i + 8 <= len; i += 8)
    _mm_storeu_si128((__m128i*)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  if (i == len) return;
  alignas(32) float b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  alignas(16) uint16_t h[8];
  std::memcpy(b, src + i, (size_t)(len - i) * sizeof(float));
  _mm_store_si128((__m128i*)h, _mm256_cvtps_ph(_mm256_load_ps(b), _MM_FROUND_TO_NEAREST_INT));
  std::memcpy(dst + i, h, (size_t)(len - i) * sizeof(uint16_t));
}

// layernorm_row_body on this path's vectors (same bits: kernels.h)
PG_AVX2 void layernorm_row(float* o, const float* x, const float* w, const float* b, i64 C, double eps) { layernorm_row_body(o, x, w, b, C, eps); }

}  // namespace
}  // namespace avx2

const Path kAvx2Path = {
    "avx2-fma", avx2::matmul_acc, avx2::lmhead, avx2::gelu, avx2::swiglu, avx2::scale_mul, avx2::rotate_half,
    avx2::logsoftmax_row, avx2::argmax_row, avx2::attn_scores<const float*>, avx2::softmax_row, avx2::attn_values<const float*>, avx2::q8_dots, avx2::q8_combine, avx2::widen16, avx2::matmul16_acc,
    avx2::quantize_row_q8, avx2::attn_scores<const uint16_t*>, avx2::attn_values<const uint16_t*>, avx2::attn_scores<KvQ8>,
    avx2::attn_values<KvQ8>, avx2::narrow16, nullptr, avx2::layernorm_row,
};

}  // namespace pg
#endif
