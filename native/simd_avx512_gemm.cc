// The avx512-vnni Path's f32 and 16-bit GEMM: simd_gemm.h's blocking with a 12-row × 32-column
// register tile of zmm accumulators (two 16-column panels per tile; 24 accumulators, 2 panel rows
// and a broadcast in 27 of the 32 zmm registers). Per out element the FMA chain is the avx2 tile's
// (C loaded, kc FMAs in k order, stored), so the bits are the same; only the width differs. On
// this project's Zen 5 VMs a zmm FMA does twice the work of a ymm one (measured 1.6× flops).
// Few rows stay on the avx2 GEMV (memory-bound: wider registers do not help).
#include "simd_avx512.h"
#include "simd_gemm.h"

#include <array>
#include <utility>

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx512 {
namespace {

#define PG_AVX512F __attribute__((target("avx2,fma,f16c,avx512f")))

// R rows × (16 + the m1 lanes of the second panel): C[r, :] = FMA chain over k of A[r, k]·B[k, :]
template <int R>
PG_AVX512F void micro2(const float* A, i64 lda, const float* B0, const float* B1, i64 kc, float* Cm, i64 ldc, __mmask16 m1) {
  __m512 c0[R], c1[R];
  for (int r = 0; r < R; r++) { c0[r] = _mm512_loadu_ps(Cm + r * ldc); c1[r] = _mm512_maskz_loadu_ps(m1, Cm + r * ldc + 16); }
  for (i64 k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(B0 + k * gemm::NR), b1 = _mm512_loadu_ps(B1 + k * gemm::NR);
    for (int r = 0; r < R; r++) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
  }
  for (int r = 0; r < R; r++) { _mm512_storeu_ps(Cm + r * ldc, c0[r]); _mm512_mask_storeu_ps(Cm + r * ldc + 16, m1, c1[r]); }
}

// R rows × the m0 lanes of one panel (the last, narrower group of a block)
template <int R>
PG_AVX512F void micro1(const float* A, i64 lda, const float* B0, const float*, i64 kc, float* Cm, i64 ldc, __mmask16 m0) {
  __m512 c0[R];
  for (int r = 0; r < R; r++) c0[r] = _mm512_maskz_loadu_ps(m0, Cm + r * ldc);
  for (i64 k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(B0 + k * gemm::NR);
    for (int r = 0; r < R; r++) c0[r] = _mm512_fmadd_ps(_mm512_set1_ps(A[r * lda + k]), b0, c0[r]);
  }
  for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(Cm + r * ldc, m0, c0[r]);
}

using Micro = void (*)(const float*, i64, const float*, const float*, i64, float*, i64, __mmask16);
template <int... Rs>
constexpr std::array<Micro, sizeof...(Rs)> two(std::integer_sequence<int, Rs...>) { return {&micro2<Rs + 1>...}; }
template <int... Rs>
constexpr std::array<Micro, sizeof...(Rs)> one(std::integer_sequence<int, Rs...>) { return {&micro1<Rs + 1>...}; }

struct Tile {
  static constexpr i64 MR = 12, G = 2;
  static constexpr auto kTwo = two(std::make_integer_sequence<int, MR>{});
  static constexpr auto kOne = one(std::make_integer_sequence<int, MR>{});
  static void run(int R, const float* A, i64 lda, const float* B, i64 ps, i64 kc, float* Cm, i64 ldc, i64 width) {
    if (width > gemm::NR) kTwo[R - 1](A, lda, B, B + ps, kc, Cm, ldc, (__mmask16)((1u << (width - gemm::NR)) - 1));
    else kOne[R - 1](A, lda, B, nullptr, kc, Cm, ldc, (__mmask16)((1u << width) - 1));
  }
};

}  // namespace

void matmul_acc(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  if (n <= avx2::gemv_max_rows() || !gemm::blocked<float, -1, Tile>(out, x, w, n, I, O, ldw, ldo)) avx2::matmul_acc(out, x, w, n, I, O, ldw, ldo);
}

void matmul16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  const bool done = n > avx2::gemv_max_rows() && (kind == 0 ? gemm::blocked<uint16_t, 0, Tile>(out, x, w, n, I, O, ldw, ldo)
                                        : gemm::blocked<uint16_t, 1, Tile>(out, x, w, n, I, O, ldw, ldo));
  if (!done) avx2::matmul16_acc(out, x, w, kind, n, I, O, ldw, ldo);
}

}  // namespace avx512
}  // namespace pg
#endif
