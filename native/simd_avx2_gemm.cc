// The avx2-fma Path's matmul and lmHead (see kernels.h for the per-element recipe they share
// with the portable path's arithmetic order).
#include <cstdlib>
#include <cstring>

#include "simd_avx2.h"
#include "simd_gemm.h"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx2 {
namespace {

// ---- matmul -----------------------------------------------------------------------------------
// Small n: stream w rows (4 k at a time) over out rows kept in L1. Per element: 4 chained FMAs in
// k order between a load and a store of out, i.e. the canonical chain.
PG_AVX2 void gemv_rows(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  i64 JB = (4096 / n) & ~(i64)7;
  if (JB < 256) JB = 256;
  for (i64 j0 = 0; j0 < O; j0 += JB) {
    const i64 jw = j0 + JB < O ? JB : O - j0;
    const i64 jv = jw & ~(i64)7;
    const __m256i m = tail_mask(jw - jv);
    i64 k = 0;
    for (; k + 4 <= I; k += 4) {
      const float* w0 = w + k * ldw + j0;
      const float* w1 = w0 + ldw;
      const float* w2 = w1 + ldw;
      const float* w3 = w2 + ldw;
      for (i64 r = 0; r < n; r++) {
        const float* xr = x + r * I + k;
        const __m256 a0 = _mm256_set1_ps(xr[0]), a1 = _mm256_set1_ps(xr[1]);
        const __m256 a2 = _mm256_set1_ps(xr[2]), a3 = _mm256_set1_ps(xr[3]);
        float* o = out + r * ldo + j0;
        i64 j = 0;
        for (; j < jv; j += 8) {
          __m256 acc = _mm256_loadu_ps(o + j);
          acc = _mm256_fmadd_ps(a0, _mm256_loadu_ps(w0 + j), acc);
          acc = _mm256_fmadd_ps(a1, _mm256_loadu_ps(w1 + j), acc);
          acc = _mm256_fmadd_ps(a2, _mm256_loadu_ps(w2 + j), acc);
          acc = _mm256_fmadd_ps(a3, _mm256_loadu_ps(w3 + j), acc);
          _mm256_storeu_ps(o + j, acc);
        }
        if (j < jw) {
          __m256 acc = _mm256_maskload_ps(o + j, m);
          acc = _mm256_fmadd_ps(a0, _mm256_maskload_ps(w0 + j, m), acc);
          acc = _mm256_fmadd_ps(a1, _mm256_maskload_ps(w1 + j, m), acc);
          acc = _mm256_fmadd_ps(a2, _mm256_maskload_ps(w2 + j, m), acc);
          acc = _mm256_fmadd_ps(a3, _mm256_maskload_ps(w3 + j, m), acc);
          _mm256_maskstore_ps(o + j, m, acc);
        }
      }
    }
    for (; k < I; k++) {
      const float* w0 = w + k * ldw + j0;
      for (i64 r = 0; r < n; r++) {
        const __m256 a0 = _mm256_set1_ps(x[r * I + k]);
        float* o = out + r * ldo + j0;
        i64 j = 0;
        for (; j < jv; j += 8) _mm256_storeu_ps(o + j, _mm256_fmadd_ps(a0, _mm256_loadu_ps(w0 + j), _mm256_loadu_ps(o + j)));
        if (j < jw)
          _mm256_maskstore_ps(o + j, m, _mm256_fmadd_ps(a0, _mm256_maskload_ps(w0 + j, m), _mm256_maskload_ps(o + j, m)));
      }
    }
  }
}

// R rows x 16 columns: C[r, 0:16] = fma chain over k of A[r, k] * B[k, 0:16], B a packed panel.
template <int R>
PG_AVX2 inline void micro(const float* A, i64 lda, const float* Bp, i64 ldb, i64 kc, float* Cm, i64 ldc) {
  __m256 c0[R], c1[R];
  for (int r = 0; r < R; r++) { c0[r] = _mm256_loadu_ps(Cm + r * ldc); c1[r] = _mm256_loadu_ps(Cm + r * ldc + 8); }
  for (i64 k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(Bp + k * ldb), b1 = _mm256_loadu_ps(Bp + k * ldb + 8);
    for (int r = 0; r < R; r++) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
  for (int r = 0; r < R; r++) { _mm256_storeu_ps(Cm + r * ldc, c0[r]); _mm256_storeu_ps(Cm + r * ldc + 8, c1[r]); }
}

PG_AVX2 inline void micro_r(int R, const float* A, i64 lda, const float* Bp, i64 ldb, i64 kc, float* Cm, i64 ldc) {
  switch (R) {
    case 6: micro<6>(A, lda, Bp, ldb, kc, Cm, ldc); break;
    case 5: micro<5>(A, lda, Bp, ldb, kc, Cm, ldc); break;
    case 4: micro<4>(A, lda, Bp, ldb, kc, Cm, ldc); break;
    case 3: micro<3>(A, lda, Bp, ldb, kc, Cm, ldc); break;
    case 2: micro<2>(A, lda, Bp, ldb, kc, Cm, ldc); break;
    default: micro<1>(A, lda, Bp, ldb, kc, Cm, ldc); break;
  }
}

// One R x width tile (width ≤ 16); a partial tile runs the same kernel on a zero-padded copy of C.
struct Tile {
  static constexpr i64 MR = 6, G = 1;
  PG_AVX2 static void run(int R, const float* A, i64 lda, const float* B, i64, i64 kc, float* Cm, i64 ldc, i64 width) {
    if (width == gemm::NR) { micro_r(R, A, lda, B, gemm::NR, kc, Cm, ldc); return; }
    alignas(32) float tmp[MR * gemm::NR];
    for (int r = 0; r < R; r++)
      for (i64 c = 0; c < gemm::NR; c++) tmp[r * gemm::NR + c] = c < width ? Cm[r * ldc + c] : 0.0f;
    micro_r(R, A, lda, B, gemm::NR, kc, tmp, gemm::NR);
    for (int r = 0; r < R; r++) std::memcpy(Cm + r * ldc, tmp + r * gemm::NR, (size_t)width * sizeof(float));
  }
};

// Rows up to this count stream w (gemv_rows); more rows use packed tiles. Both give bit-identical
// rows; PIPEGPT_NATIVE_GEMV_MAX overrides it for tuning experiments.
i64 env_int(const char* name, i64 def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : def;
}
const i64 g_gemv_max = env_int("PIPEGPT_NATIVE_GEMV_MAX", 4);

}  // namespace

i64 gemv_max_rows() { return g_gemv_max; }

// out already holds the bias (or 0): see drivers.cc matmul
PG_AVX2 void matmul_acc(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  if (n <= g_gemv_max || !gemm::blocked<float, -1, Tile>(out, x, w, n, I, O, ldw, ldo)) gemv_rows(out, x, w, n, I, O, ldw, ldo);
}

// matmul_acc's packed GEMM over 16-bit w (kind as widen16): the same chains, so the same bits
bool gemm16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  return kind == 0 ? gemm::blocked<uint16_t, 0, Tile>(out, x, w, n, I, O, ldw, ldo) : gemm::blocked<uint16_t, 1, Tile>(out, x, w, n, I, O, ldw, ldo);
}

namespace {

// ---- lmHead -----------------------------------------------------------------------------------
// NV wte rows × NX x rows of dot products, one 8-lane accumulator each (see header comment).
template <int NV, int NX>
PG_AVX2 inline void dot_tile(const float* wr, const float* xr, i64 C, float* out, i64 ldo) {
  __m256 acc[NV][NX];
  for (int a = 0; a < NV; a++)
    for (int b = 0; b < NX; b++) acc[a][b] = _mm256_setzero_ps();
  const i64 Cv = C & ~(i64)7;
  i64 c = 0;
  for (; c < Cv; c += 8) {
    __m256 xv[NX];
    for (int b = 0; b < NX; b++) xv[b] = _mm256_loadu_ps(xr + b * C + c);
    for (int a = 0; a < NV; a++) {
      const __m256 wv = _mm256_loadu_ps(wr + a * C + c);
      for (int b = 0; b < NX; b++) acc[a][b] = _mm256_fmadd_ps(xv[b], wv, acc[a][b]);
    }
  }
  if (c < C) {
    const __m256i m = tail_mask(C - c);
    __m256 xv[NX];
    for (int b = 0; b < NX; b++) xv[b] = _mm256_maskload_ps(xr + b * C + c, m);
    for (int a = 0; a < NV; a++) {
      const __m256 wv = _mm256_maskload_ps(wr + a * C + c, m);
      for (int b = 0; b < NX; b++) acc[a][b] = _mm256_fmadd_ps(xv[b], wv, acc[a][b]);
    }
  }
  for (int a = 0; a < NV; a++)
    for (int b = 0; b < NX; b++) out[b * ldo + a] = hsum8(acc[a][b]);
}

template <int NX>
PG_AVX2 void lmhead_rows(const float* x, const float* wte, i64 C, i64 ldo, float* out, i64 v0, i64 v1) {
  constexpr int NV = NX == 1 ? 8 : 4;
  i64 v = v0;
  for (; v + NV <= v1; v += NV) dot_tile<NV, NX>(wte + v * C, x, C, out + v, ldo);
  for (; v < v1; v++) dot_tile<1, NX>(wte + v * C, x, C, out + v, ldo);
}

}  // namespace

PG_AVX2 void lmhead(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V, i64 ldo) {
  if (m == 1) { lmhead_rows<1>(x, wte, C, ldo, out, 0, V); return; }
  // x rows in blocks of XB (kept in L2); wte walked in chunks of VB rows (kept in L1/L2), each
  // chunk used by all the 3-row tiles of the block before moving on.
  const i64 XB = 24, VB = 16;
  for (i64 r0 = 0; r0 < m; r0 += XB) {
    const i64 r1 = r0 + XB < m ? r0 + XB : m;
    for (i64 v0 = 0; v0 < V; v0 += VB) {
      const i64 v1 = v0 + VB < V ? v0 + VB : V;
      i64 r = r0;
      for (; r + 3 <= r1; r += 3) lmhead_rows<3>(x + r * C, wte, C, ldo, out + r * ldo, v0, v1);
      for (; r < r1; r++) lmhead_rows<1>(x + r * C, wte, C, ldo, out + r * ldo, v0, v1);
    }
  }
}

}  // namespace avx2
}  // namespace pg
#endif
