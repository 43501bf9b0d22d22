// The packed f32 GEMM's blocking, shared by the avx2-fma and avx512-vnni Paths (each brings its
// register tile): include only in their translation units, inside namespace pg.
//
// GotoBLAS-style. For each block of nc columns and kc rows of w, pack w into 16-column panels
// (zero-padded), then run the path's register tile over groups of G panels and all row blocks.
// Block shape by row count (bench of 2026-11-29, cold weights, one thread):
//   n ≤ SLAB_MAX_N: 32 rows × all columns (up to 4096): a block is one contiguous stretch of w,
//     which the hardware prefetcher streams; 16-row calls got 17–21 % faster than with 256 × 256
//     blocks (whose 256 separate 1 KiB row pieces each start a new stream), 8-row calls ~25 %.
//   larger n: 256 × 256 blocks, compute-bound; short k-blocks would reload C tiles too often.
// Either way each out element is the same FMA chain over k in order (C loaded, kc FMAs, stored,
// per k-block), so results are identical across paths, tiles and blockings.
#pragma once

#include <cstdlib>
#include <cstring>

#include "simd_avx2.h"

#if PG_HAVE_AVX2_PATH

namespace gemm {

using pg::i64;
constexpr i64 NR = 16, KC = 256, NC = 256;
constexpr i64 SLAB_MAX_N = 32, SLAB_KC = 32, SLAB_NC = 4096;

// Panel p of a packed block starts at p * panel_stride(kc): one 64-byte line more than kc * NR
// floats, so that the panels (16 KiB apart otherwise) do not all fall into the same cache sets.
inline i64 panel_stride(i64 kc) { return kc * NR + 16; }

// Packs the block w[k0 .. k0+kc, j0 .. j0+nc] into 16-column panels (zero-padded). Reads w one
// row segment at a time, front to back: with O = 3072 the rows are 12 KiB apart, and a
// column-panel walk (256 rows per 64-byte line) thrashed the L1/L2 sets that stride maps to.
template <typename T, int KIND>
PG_AVX2_F16C void pack_w(const T* w, i64 ld, i64 k0, i64 kc, i64 j0, i64 nc, float* dst) {
  const i64 full = nc / NR, ps = panel_stride(kc);
  for (i64 k = 0; k < kc; k++) {
    const T* s = w + (k0 + k) * ld + j0;
    float* d = dst + k * NR;
    for (i64 p = 0; p < full; p++) {
      _mm256_store_ps(d + p * ps, pg::avx2::load8<T, KIND>(s + p * NR));
      _mm256_store_ps(d + p * ps + 8, pg::avx2::load8<T, KIND>(s + p * NR + 8));
    }
    if (full * NR < nc) {
      const i64 width = nc - full * NR;
      for (i64 c = 0; c < NR; c++) d[full * ps + c] = c < width ? pg::avx2::load1<T, KIND>(s + full * NR + c) : 0.0f;
    }
  }
}

// Row blocks of at most MR rows, balanced (n = 8, MR = 6 → 4 + 4, not 6 + 2): block b covers
// [row_start(b), row_start(b + 1)). Which block a row lands in does not change its arithmetic.
inline i64 row_blocks(i64 n, i64 mr) { return (n + mr - 1) / mr; }
inline i64 row_start(i64 n, i64 nb, i64 b) { return b * n / nb; }

struct AlignedBuf {
  float* p = nullptr;
  size_t cap = 0;
  ~AlignedBuf() { std::free(p); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
      cap = p ? n : 0;
    }
    return p;
  }
};
inline thread_local AlignedBuf g_pack;

// out[n, O] (row stride ldo, holding the bias or partial sums) += x[n, I] · w[I, O] (row stride
// ldw). Weights stream from DRAM once per call: each block is packed, then Tile::run covers
// R ≤ Tile::MR rows × up to Tile::G panels (width ≤ 16·G columns) from the first panel Bp, the
// group's panels ps floats apart. (Software prefetch of the next block was tried and measured no
// faster than letting the hardware stream contiguous slabs.) 16-bit weights are widened while
// packing (half the bytes from DRAM, no f32 copy of the block). False when the packing scratch
// cannot be had (the caller then streams w: same recipe).
template <typename T, int KIND, class Tile>
inline bool blocked(float* out, const float* x, const T* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  const bool slab = n <= SLAB_MAX_N;
  const i64 KB = slab ? SLAB_KC : KC, NB = slab ? (O < SLAB_NC ? O : SLAB_NC) : NC;
  float* pack = g_pack.get((size_t)(panel_stride(KB) * ((NB + NR - 1) / NR)));
  if (!pack) return false;
  const i64 nb = row_blocks(n, Tile::MR), GW = Tile::G * NR;
  for (i64 j0 = 0; j0 < O; j0 += NB) {
    const i64 nc = j0 + NB < O ? NB : O - j0;
    for (i64 k0 = 0; k0 < I; k0 += KB) {
      const i64 kc = k0 + KB < I ? KB : I - k0, ps = panel_stride(kc);
      pack_w<T, KIND>(w, ldw, k0, kc, j0, nc, pack);
      for (i64 c = 0; c < nc; c += GW) {
        const i64 width = nc - c < GW ? nc - c : GW;
        const float* Bp = pack + (c / NR) * ps;
        for (i64 b = 0; b < nb; b++) {
          const i64 i = row_start(n, nb, b);
          Tile::run((int)(row_start(n, nb, b + 1) - i), x + i * I + k0, I, Bp, ps, kc, out + i * ldo + j0 + c, ldo, width);
        }
      }
    }
  }
  return true;
}

}  // namespace gemm
#endif
