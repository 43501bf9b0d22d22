// The avx512-vnni Path: the avx2-fma Path, except the Q8 block dots use vpdpbusd (AVX-512 VNNI on
// 256-bit vectors: |w| u8 × x·sign(w) s8 summed in groups of 4 straight into i32). Same S_b, so
// the same bits as every other path.
#include <cstring>
#include <vector>

#include "simd_avx512.h"

// GCC 12 warns "__Y may be used uninitialized" inside its own AVX-512 intrinsics headers (a false positive)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx512 {
namespace {

#define PG_Q8_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
PG_Q8_TARGET inline __m256i dot_vnni(__m256i aw, __m256i sx) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx); }
#define PG_Q8_DOT dot_vnni
#include "simd_q8.h"

// Several rows: the 16 weight rows are repacked once per call so that a zmm holds 4 bytes of each
// (pk[b][g] = w[0..15][32b + 4g .. +3]); then per row and block 8 vpdpbusd on the broadcast 4-byte
// groups of x give all 16 S_b at once, with no horizontal sums. vpdpbusd takes u8 × s8, so x goes in
// as x + 128 (= x ^ 0x80) and the 128·Σw term (comp, from the same packed w) is subtracted.
thread_local std::vector<int32_t> g_pk;  // [nb · 8] packed groups, then [nb] comp, 16 int32 each

// 4 bytes of x broadcast to every dword, as u8 x + 128
PG_Q8_TARGET inline __m512i bx(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v ^ (int32_t)0x80808080u);
}

}  // namespace

PG_Q8_TARGET const int32_t* pack16(const int8_t* w, i64 ldw, i64 nb, bool u8) {
  if ((i64)g_pk.size() < nb * 9 * 16) g_pk.resize((size_t)(nb * 9 * 16));
  int32_t* pkm = g_pk.data();
  int32_t* cm = pkm + nb * 8 * 16;
  const __m512i u128 = _mm512_set1_epi8((char)0x80);
  const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (i64 b = 0; b < nb; b++) {
    // z[i] = [row i | row i + 8] (32 bytes = 8 dwords each); an 8×8 dword transpose in each
    // 256-bit half (unpacks act per 128-bit lane) leaves group g of rows 0..15 in out[g]
    __m512i z[8], t[8], u[8];
    for (int i = 0; i < 8; i++)
      z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(w + i * ldw + b * 32))),
                                _mm256_loadu_si256((const __m256i*)(w + (i + 8) * ldw + b * 32)), 1);
    for (int i = 0; i < 8; i += 2) { t[i] = _mm512_unpacklo_epi32(z[i], z[i + 1]); t[i + 1] = _mm512_unpackhi_epi32(z[i], z[i + 1]); }
    for (int h = 0; h < 8; h += 4) {  // rows h..h+3: u[h + 0..3] hold dwords {0,4}, {1,5}, {2,6}, {3,7}
      u[h] = _mm512_unpacklo_epi64(t[h], t[h + 2]);
      u[h + 1] = _mm512_unpackhi_epi64(t[h], t[h + 2]);
      u[h + 2] = _mm512_unpacklo_epi64(t[h + 1], t[h + 3]);
      u[h + 3] = _mm512_unpackhi_epi64(t[h + 1], t[h + 3]);
    }
    __m512i c = _mm512_setzero_si512();
    for (int g = 0; g < 4; g++) {
      const __m512i v0 = _mm512_permutex2var_epi64(u[g], lo, u[g + 4]), v1 = _mm512_permutex2var_epi64(u[g], hi, u[g + 4]);
      if (u8) {  // the fused tile's u8 = w + 128 groups; it corrects with the activations' sums instead of comp
        _mm512_storeu_si512(pkm + (b * 8 + g) * 16, _mm512_xor_si512(v0, u128));
        _mm512_storeu_si512(pkm + (b * 8 + g + 4) * 16, _mm512_xor_si512(v1, u128));
        continue;
      }
      _mm512_storeu_si512(pkm + (b * 8 + g) * 16, v0);
      _mm512_storeu_si512(pkm + (b * 8 + g + 4) * 16, v1);
      c = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(c, u128, v0), u128, v1);
    }
    if (!u8) _mm512_storeu_si512(cm + b * 16, c);
  }
  return pkm;
}

PG_Q8_TARGET void dots_packed(int32_t* dst, const int8_t* xq, i64 r0, i64 n, i64 nb, const int32_t* pkm) {
  const i64 Ip = nb * 32;
  const int32_t* cm = pkm + nb * 8 * 16;
#define pk(i) _mm512_loadu_si512(pkm + (i) * 16)
  i64 r = r0;
  for (; r + 4 <= n; r += 4) {
    const int8_t* x = xq + r * Ip;
    for (i64 b = 0; b < nb; b++) {
      __m512i a[4][2];
      for (int i = 0; i < 4; i++) a[i][0] = a[i][1] = _mm512_setzero_si512();
      for (int g = 0; g < 8; g++) {
        const __m512i v = pk(b * 8 + g);
        for (int i = 0; i < 4; i++) a[i][g & 1] = _mm512_dpbusd_epi32(a[i][g & 1], bx(x + i * Ip + b * 32 + g * 4), v);
      }
      for (int i = 0; i < 4; i++)
        _mm512_storeu_si512(dst + ((r + i) * nb + b) * 16, _mm512_sub_epi32(_mm512_add_epi32(a[i][0], a[i][1]), _mm512_loadu_si512(cm + b * 16)));
    }
  }
  for (; r < n; r++) {
    const int8_t* x = xq + r * Ip;
    for (i64 b = 0; b < nb; b++) {
      __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
      for (int g = 0; g < 8; g += 2) {
        a0 = _mm512_dpbusd_epi32(a0, bx(x + b * 32 + g * 4), pk(b * 8 + g));
        a1 = _mm512_dpbusd_epi32(a1, bx(x + b * 32 + g * 4 + 4), pk(b * 8 + g + 1));
      }
      _mm512_storeu_si512(dst + (r * nb + b) * 16, _mm512_sub_epi32(_mm512_add_epi32(a0, a1), _mm512_loadu_si512(cm + b * 16)));
    }
  }
}

#undef pk

// the portable recipe on 16 lanes (separate mul, mul, add: no FMA, so the same bits)
PG_Q8_TARGET void q8_combine(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb) {
  __m512 acc = _mm512_setzero_ps();
  for (i64 b = 0; b < nb; b++) {
    const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(xd[b]), _mm512_loadu_ps(wsT + b * 16));
    acc = _mm512_add_ps(acc, _mm512_mul_ps(sc, _mm512_cvtepi32_ps(_mm512_loadu_si512(isum + b * 16))));
  }
  _mm512_storeu_ps(s, acc);
}

// quantize_row_q8 (quant.cc) on 8 f64 lanes, as the avx2 path does on 4: the same ops, the same bits.
PG_Q8_TARGET void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I) {
  const i64 nb = (I + 31) / 32;
  for (i64 b = 0; b < nb; b++) {
    const float* xb = x + b * 32;
    if (b * 32 + 32 > I) { pg::quantize_row_q8(q + b * 32, d + b, xb, I - b * 32); continue; }
    const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
    const float db = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1))) / 127.0f;
    d[b] = db;
    int8_t* qb = q + b * 32;
    if (db == 0.0f) { std::memset(qb, 0, 32); continue; }
    const __m512d dd = _mm512_set1_pd((double)db), half = _mm512_set1_pd(0.5), lim = _mm512_set1_pd(127.0);
    for (int i = 0; i < 4; i++) {
      const __m512 v = i < 2 ? v0 : v1;  // upper half through f64x4 (f32x8 extracts need AVX512DQ)
      const __m256 x8 = i & 1 ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) : _mm512_castps512_ps256(v);
      const __m512d a = _mm512_abs_pd(_mm512_cvtps_pd(x8));
      const __m512d t = _mm512_min_pd(_mm512_roundscale_pd(_mm512_add_pd(_mm512_div_pd(a, dd), half), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), lim);
      const __m256i k = _mm256_sign_epi32(_mm512_cvttpd_epi32(t), _mm256_castps_si256(x8));
      _mm_storel_epi64((__m128i*)(qb + 8 * i), _mm256_cvtepi32_epi8(k));
    }
  }
}

// The fused tile (Path::q8_tile). Weights go in as u8 = w + 128 (pack16's groups, XORed with 0x80)
// and activations as they are, so vpdpbusd's s8 operand is x and can be an embedded broadcast
// from memory: one instruction per 4 activation bytes instead of load, broadcast, XOR and dot.
// S_b = dot - 128·xs[r, b] (exact int32), then q8_combine's f32 mul, mul, add in registers.
template <int NR4>
PG_Q8_TARGET void tile_rows(float* s, const int8_t* xq, const float* xd, const int32_t* xs, i64 r, i64 nb, const int32_t* pku, const float* wsT) {
  const i64 Ip = nb * 32;
  __m512 acc[NR4];
  for (int i = 0; i < NR4; i++) acc[i] = _mm512_setzero_ps();
  for (i64 b = 0; b < nb; b++) {
    __m512i a[NR4][2];
    for (int i = 0; i < NR4; i++) a[i][0] = a[i][1] = _mm512_setzero_si512();
    for (int g = 0; g < 8; g++) {
      const __m512i v = _mm512_loadu_si512(pku + (b * 8 + g) * 16);
      for (int i = 0; i < NR4; i++) {
        int32_t xv;
        std::memcpy(&xv, xq + (r + i) * Ip + b * 32 + g * 4, 4);
        a[i][g & 1] = _mm512_dpbusd_epi32(a[i][g & 1], v, _mm512_set1_epi32(xv));
      }
    }
    const __m512 wsb = _mm512_loadu_ps(wsT + b * 16);
    for (int i = 0; i < NR4; i++) {
      const __m512i S = _mm512_sub_epi32(_mm512_add_epi32(a[i][0], a[i][1]), _mm512_set1_epi32(128 * xs[(r + i) * nb + b]));
      const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(xd[(r + i) * nb + b]), wsb);
      acc[i] = _mm512_add_ps(acc[i], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(S)));
    }
  }
  for (int i = 0; i < NR4; i++) _mm512_storeu_ps(s + (r + i) * 16, acc[i]);
}

PG_Q8_TARGET void q8_tile(float* s, const int8_t* xq, const float* xd, const int32_t* xs, i64 n, const int8_t* w, i64 ldw, i64 Ip, const float* wsT) {
  const i64 nb = Ip / 32;
  const int32_t* pku = pack16(w, ldw, nb, true);
  i64 r = 0;
  for (; r + 4 <= n; r += 4) tile_rows<4>(s, xq, xd, xs, r, nb, pku, wsT);
  switch (n - r) {
    case 3: tile_rows<3>(s, xq, xd, xs, r, nb, pku, wsT); break;
    case 2: tile_rows<2>(s, xq, xd, xs, r, nb, pku, wsT); break;
    case 1: tile_rows<1>(s, xq, xd, xs, r, nb, pku, wsT); break;
    default: break;
  }
}

// layernorm_row_body on 512-bit vectors (same bits: kernels.h; written out with intrinsics it
// measured no faster than the compiler's: 14.1 against 15.9 µs for 32 rows of 768)
PG_Q8_TARGET void layernorm_row(float* o, const float* x, const float* w, const float* b, i64 C, double eps) { layernorm_row_body(o, x, w, b, C, eps); }

// Up to 3 rows: horizontal sums (measured faster than packing for so few); more: the packed kernel.
void q8_dots(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) {
  if (n < 4) q8_dots_simd(dst, xq, n, w, ldw, Ip);
  else dots_packed(dst, xq, 0, n, Ip / 32, pack16(w, ldw, Ip / 32));
}

}  // namespace avx512

const Path& avx512_vnni_path() {
  static const Path p = [] {
    Path q = kAvx2Path;
    q.name = "avx512-vnni";
    q.q8_dots = avx512::q8_dots;
    q.q8_combine = avx512::q8_combine;
    q.quantize_row_q8 = avx512::quantize_row_q8;
    q.matmul_acc = avx512::matmul_acc;
    q.matmul16_acc = avx512::matmul16_acc;
    q.q8_tile = avx512::q8_tile;
    q.layernorm_row = avx512::layernorm_row;
    return q;
  }();
  return p;
}

}  // namespace pg
#endif
