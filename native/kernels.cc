// pipegpt native kernels: the KernelSet ops (src/kernels/names.ts) in C++ behind plain Node-API.
//
// Two code paths, chosen once when the addon loads:
//   avx2-fma  explicit AVX2/FMA intrinsics (functions compiled with target("avx2,fma")), used when
//             the CPU reports both features;
//   portable  plain C++ the compiler may auto-vectorize with the baseline ISA.
// PIPEGPT_NATIVE_SIMD=portable forces the portable path (for testing it on AVX2 machines).
//
// Batch invariance: within one path, every output element is produced by the same sequence of
// floating-point operations whatever the number of rows in the call and whichever tile handles it.
//   matmul   out[r,j] = bias[j], then one FMA (avx2) / mul+add (portable) per k in order
//            k = 0..I-1, on a single f32 accumulator (stored/reloaded exactly between k-blocks);
//   lmHead   out[r,v] = hsum8(acc) where acc lane l sums c ≡ l (mod 8) in increasing c with FMA
//            (a partial last chunk is read zero-padded) and hsum8 is one fixed tree;
// every kernel (GEMV, packed GEMM, row tiles, remainder tiles) follows exactly that recipe.
// Column ranges (a tensor-parallel rank's share of a matmul) run the same code with w a
// contiguous column shard [I, j1 - j0] and out + j0 with row stride O. The chain per element is
// unchanged.
// The whole file is built with -ffp-contract=off so scalar code never gets contracted silently.
//
// All kernels are single-threaded, allocate only thread_local scratch, and keep no JS state, so
// the addon loads in any number of worker threads.
#include <node_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PG_HAVE_AVX2_PATH 1
#include <immintrin.h>
#define PG_AVX2 __attribute__((target("avx2,fma")))
#else
#define PG_HAVE_AVX2_PATH 0
#endif

namespace {

using i64 = int64_t;

// ------------------------------------------------------------------------------------------------
// Ops with no reduction (same code on both paths; the compiler vectorizes them as it can).

void embedding_k(float* out, const int32_t* tok, const int32_t* pos, const float* wte, const float* wpe, i64 n, i64 C) {
  for (i64 r = 0; r < n; r++) {
    const float* __restrict a = wte + (i64)tok[r] * C;
    const float* __restrict b = wpe + (i64)pos[r] * C;
    float* __restrict o = out + r * C;
    for (i64 c = 0; c < C; c++) o[c] = a[c] + b[c];
  }
}

void residual_k(float* out, const float* a, const float* b, i64 len) {
  // out may alias a: element i reads a[i], b[i] before writing out[i]; no restrict.
  for (i64 i = 0; i < len; i++) out[i] = a[i] + b[i];
}

// channels [c0, c1) of each row's k and v
void kvwrite_k(const float* qkv, float* kc, float* vc, const int32_t* slots, i64 n, i64 C, i64 c0, i64 c1) {
  const size_t bytes = (size_t)(c1 - c0) * sizeof(float);
  for (i64 r = 0; r < n; r++) {
    std::memcpy(kc + (i64)slots[r] * C + c0, qkv + r * 3 * C + C + c0, bytes);
    std::memcpy(vc + (i64)slots[r] * C + c0, qkv + r * 3 * C + 2 * C + c0, bytes);
  }
}

// LayerNorm: statistics in f64 like the reference; the normalization in f64 per element.
void layernorm_k(float* out, const float* inp, const float* w, const float* b, i64 n, i64 C, double eps) {
  for (i64 r = 0; r < n; r++) {
    const float* x = inp + r * C;
    float* o = out + r * C;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    i64 c = 0;
    for (; c + 4 <= C; c += 4) { s0 += x[c]; s1 += x[c + 1]; s2 += x[c + 2]; s3 += x[c + 3]; }
    for (; c < C; c++) s0 += x[c];
    const double mean = ((s0 + s1) + (s2 + s3)) / (double)C;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const double d0 = x[c] - mean, d1 = x[c + 1] - mean, d2 = x[c + 2] - mean, d3 = x[c + 3] - mean;
      v0 += d0 * d0; v1 += d1 * d1; v2 += d2 * d2; v3 += d3 * d3;
    }
    for (; c < C; c++) { const double d = x[c] - mean; v0 += d * d; }
    const double rstd = 1.0 / std::sqrt(((v0 + v1) + (v2 + v3)) / (double)C + eps);
    for (c = 0; c < C; c++) o[c] = (float)((x[c] - mean) * rstd * w[c] + b[c]);
  }
}

// log-softmax: max, Σ exp in f64 (expf per element), out = x - lse.
void logsoftmax_k(float* out, const float* inp, i64 m, i64 V) {
  for (i64 r = 0; r < m; r++) {
    const float* x = inp + r * V;
    float* o = out + r * V;
    float mx = -INFINITY;
    for (i64 v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
    double s0 = 0, s1 = 0;
    i64 v = 0;
    for (; v + 2 <= V; v += 2) { s0 += std::exp((double)(x[v] - mx)); s1 += std::exp((double)(x[v + 1] - mx)); }
    for (; v < V; v++) s0 += std::exp((double)(x[v] - mx));
    const double lse = (double)mx + std::log(s0 + s1);
    for (v = 0; v < V; v++) o[v] = (float)((double)x[v] - lse);
  }
}

// ------------------------------------------------------------------------------------------------
// Portable path.
namespace portable {

// out [n, O] with row stride ldo ≥ O (a column range of a wider matrix), w [I, O] with row stride ldw
void matmul(float* out, const float* x, const float* w, const float* bias, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  for (i64 r = 0; r < n; r++) std::memcpy(out + r * ldo, bias, (size_t)O * sizeof(float));
  const i64 JB = 1024;  // column block: one out-row slice stays in L1 while k runs
  for (i64 j0 = 0; j0 < O; j0 += JB) {
    const i64 j1 = j0 + JB < O ? j0 + JB : O;
    for (i64 r = 0; r < n; r++) {
      float* __restrict o = out + r * ldo;
      const float* xr = x + r * I;
      for (i64 k = 0; k < I; k++) {
        const float a = xr[k];
        const float* __restrict wk = w + k * ldw;
        for (i64 j = j0; j < j1; j++) o[j] = o[j] + a * wk[j];
      }
    }
  }
}

inline float dot8(const float* __restrict a, const float* __restrict b, i64 C) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 c = 0;
  for (; c + 8 <= C; c += 8)
    for (int l = 0; l < 8; l++) acc[l] = acc[l] + a[c + l] * b[c + l];
  for (int l = 0; c + l < C; l++) acc[l] = acc[l] + a[c + l] * b[c + l];
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

void lmhead(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V) {
  const i64 RB = 32;  // x rows per block: each wte row is read once per block
  for (i64 r0 = 0; r0 < m; r0 += RB) {
    const i64 r1 = r0 + RB < m ? r0 + RB : m;
    for (i64 v = 0; v < V; v++)
      for (i64 r = r0; r < r1; r++) out[r * V + v] = dot8(x + r * C, wte + v * C, C);
  }
}

void gelu(float* out, const float* inp, i64 len) {
  const float S = 0.7978845608028654f;
  for (i64 i = 0; i < len; i++) {
    const float x = inp[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(S * (x + 0.044715f * x * x * x)));
  }
}

}  // namespace portable

// ------------------------------------------------------------------------------------------------
// AVX2 + FMA path.
#if PG_HAVE_AVX2_PATH
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

// Larger n: GotoBLAS-style. For each block of nc columns and kc rows of w, pack w into 16-column
// panels (zero-padded), then for each panel run the 6x16 register tile over all row blocks.
// Block shape by row count (bench of 2026-11-29, cold weights, one thread):
//   n ≤ SLAB_MAX_N: 32 rows × all columns (up to 4096): a block is one contiguous stretch of w,
//     which the hardware prefetcher streams; 16-row calls got 17–21 % faster than with 256 × 256
//     blocks (whose 256 separate 1 KiB row pieces each start a new stream), 8-row calls ~25 %.
//   larger n: 256 × 256 blocks, compute-bound; short k-blocks would reload C tiles too often.
// Either way each out element is the same FMA chain over k in order, so results are identical.
constexpr i64 MR = 6, NR = 16, KC = 256, NC = 256;
constexpr i64 SLAB_MAX_N = 32, SLAB_KC = 32, SLAB_NC = 4096;

// Panel p of a packed block starts at p * panel_stride(kc): one 64-byte line more than kc * NR
// floats, so that the panels (16 KiB apart otherwise) do not all fall into the same cache sets.
inline i64 panel_stride(i64 kc) { return kc * NR + 16; }

// Packs the block w[k0 .. k0+kc, j0 .. j0+nc] into 16-column panels (zero-padded). Reads w one
// row segment at a time, front to back: with O = 3072 the rows are 12 KiB apart, and a
// column-panel walk (256 rows per 64-byte line) thrashed the L1/L2 sets that stride maps to.
PG_AVX2 void pack_w(const float* w, i64 ld, i64 k0, i64 kc, i64 j0, i64 nc, float* dst) {
  const i64 full = nc / NR, ps = panel_stride(kc);
  for (i64 k = 0; k < kc; k++) {
    const float* s = w + (k0 + k) * ld + j0;
    float* d = dst + k * NR;
    for (i64 p = 0; p < full; p++) {
      _mm256_store_ps(d + p * ps, _mm256_loadu_ps(s + p * NR));
      _mm256_store_ps(d + p * ps + 8, _mm256_loadu_ps(s + p * NR + 8));
    }
    if (full * NR < nc) {
      const i64 width = nc - full * NR;
      for (i64 c = 0; c < NR; c++) d[full * ps + c] = c < width ? s[full * NR + c] : 0.0f;
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

// Row blocks of at most MR rows, balanced (n = 8 → 4 + 4, not 6 + 2): block b covers
// [row_start(b), row_start(b + 1)). Which block a row lands in does not change its arithmetic.
inline i64 row_blocks(i64 n) { return (n + MR - 1) / MR; }
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
thread_local AlignedBuf g_pack;

// One R x width tile (width ≤ 16); a partial tile runs the same kernel on a zero-padded copy of C.
PG_AVX2 inline void tile(int R, const float* A, i64 lda, const float* B, i64 ldb, i64 kc, float* Cm, i64 ldc, i64 width, float* tmp) {
  if (width == NR) { micro_r(R, A, lda, B, ldb, kc, Cm, ldc); return; }
  for (int r = 0; r < R; r++)
    for (i64 c = 0; c < NR; c++) tmp[r * NR + c] = c < width ? Cm[r * ldc + c] : 0.0f;
  micro_r(R, A, lda, B, ldb, kc, tmp, NR);
  for (int r = 0; r < R; r++) std::memcpy(Cm + r * ldc, tmp + r * NR, (size_t)width * sizeof(float));
}

// Weights stream from DRAM once per call: each block is packed, then every row tile runs over
// each of its panels. (Software prefetch of the next block while computing this one was tried
// and measured no faster than letting the hardware stream contiguous slabs.)
PG_AVX2 void gemm_packed(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  const bool slab = n <= SLAB_MAX_N;
  const i64 KB = slab ? SLAB_KC : KC, NB = slab ? (O < SLAB_NC ? O : SLAB_NC) : NC;
  float* pack = g_pack.get((size_t)(panel_stride(KB) * ((NB + NR - 1) / NR)));
  if (!pack) { gemv_rows(out, x, w, n, I, O, ldw, ldo); return; }  // same recipe, no scratch
  alignas(32) float tmp[MR * NR];
  const i64 nb = row_blocks(n);
  for (i64 j0 = 0; j0 < O; j0 += NB) {
    const i64 nc = j0 + NB < O ? NB : O - j0;
    for (i64 k0 = 0; k0 < I; k0 += KB) {
      const i64 kc = k0 + KB < I ? KB : I - k0;
      pack_w(w, ldw, k0, kc, j0, nc, pack);
      for (i64 p = 0; p * NR < nc; p++) {
        const i64 jp = j0 + p * NR, width = nc - p * NR < NR ? nc - p * NR : NR;
        const float* Bp = pack + p * panel_stride(kc);
        for (i64 b = 0; b < nb; b++) {
          const i64 i = row_start(n, nb, b);
          const int R = (int)(row_start(n, nb, b + 1) - i);
          tile(R, x + i * I + k0, I, Bp, NR, kc, out + i * ldo + jp, ldo, width, tmp);
        }
      }
    }
  }
}

// Rows up to this count stream w (gemv_rows); more rows use packed tiles. Both give bit-identical
// rows; PIPEGPT_NATIVE_GEMV_MAX overrides it for tuning experiments.
i64 env_int(const char* name, i64 def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : def;
}
const i64 g_gemv_max = env_int("PIPEGPT_NATIVE_GEMV_MAX", 4);

PG_AVX2 void matmul(float* out, const float* x, const float* w, const float* bias, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
  for (i64 r = 0; r < n; r++) std::memcpy(out + r * ldo, bias, (size_t)O * sizeof(float));
  if (n <= g_gemv_max) gemv_rows(out, x, w, n, I, O, ldw, ldo);
  else gemm_packed(out, x, w, n, I, O, ldw, ldo);
}

// ---- lmHead -----------------------------------------------------------------------------------
// NV wte rows × NX x rows of dot products, one 8-lane accumulator each (see header comment).
template <int NV, int NX>
PG_AVX2 inline void dot_tile(const float* wr, const float* xr, i64 C, float* out, i64 V) {
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
    for (int b = 0; b < NX; b++) out[b * V + a] = hsum8(acc[a][b]);
}

template <int NX>
PG_AVX2 void lmhead_rows(const float* x, const float* wte, i64 C, i64 V, float* out, i64 v0, i64 v1) {
  constexpr int NV = NX == 1 ? 8 : 4;
  i64 v = v0;
  for (; v + NV <= v1; v += NV) dot_tile<NV, NX>(wte + v * C, x, C, out + v, V);
  for (; v < v1; v++) dot_tile<1, NX>(wte + v * C, x, C, out + v, V);
}

PG_AVX2 void lmhead(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V) {
  if (m == 1) { lmhead_rows<1>(x, wte, C, V, out, 0, V); return; }
  // x rows in blocks of XB (kept in L2); wte walked in chunks of VB rows (kept in L1/L2), each
  // chunk used by all the 3-row tiles of the block before moving on.
  const i64 XB = 24, VB = 16;
  for (i64 r0 = 0; r0 < m; r0 += XB) {
    const i64 r1 = r0 + XB < m ? r0 + XB : m;
    for (i64 v0 = 0; v0 < V; v0 += VB) {
      const i64 v1 = v0 + VB < V ? v0 + VB : V;
      i64 r = r0;
      for (; r + 3 <= r1; r += 3) lmhead_rows<3>(x + r * C, wte, C, V, out + r * V, v0, v1);
      for (; r < r1; r++) lmhead_rows<1>(x + r * C, wte, C, V, out + r * V, v0, v1);
    }
  }
}

// ---- gelu: tanh via exp(-2|u|) with a Cephes-style expf polynomial --------------------------------
PG_AVX2 inline __m256 exp_ps(__m256 x) {  // x ≤ 0 here; accurate to ~2 ulp on [-88, 0]
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

// ---- attention helpers --------------------------------------------------------------------------
PG_AVX2 void dots4(const float* q, const float* k0, const float* k1, const float* k2, const float* k3, i64 D, float* s) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  i64 d = 0;
  for (; d + 8 <= D; d += 8) {
    const __m256 qv = _mm256_loadu_ps(q + d);
    a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + d), a0);
    a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + d), a1);
    a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + d), a2);
    a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + d), a3);
  }
  if (d < D) {
    const __m256i m = tail_mask(D - d);
    const __m256 qv = _mm256_maskload_ps(q + d, m);
    a0 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + d, m), a0);
    a1 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k1 + d, m), a1);
    a2 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k2 + d, m), a2);
    a3 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k3 + d, m), a3);
  }
  s[0] = hsum8(a0); s[1] = hsum8(a1); s[2] = hsum8(a2); s[3] = hsum8(a3);
}

template <int NCH>
PG_AVX2 void weighted_sum(float* o, const float* vc, const i64* voff, const float* p, i64 T, i64 D, i64 d0) {
  __m256 acc[NCH];
  for (int c = 0; c < NCH; c++) acc[c] = _mm256_setzero_ps();
  const i64 rem = D - d0 - (NCH - 1) * 8;  // lanes used in the last chunk (1..8)
  const __m256i m = tail_mask(rem < 8 ? rem : 7);
  const bool full = rem >= 8;
  for (i64 t = 0; t < T; t++) {
    const __m256 pv = _mm256_set1_ps(p[t]);
    const float* v = vc + voff[t] + d0;
    for (int c = 0; c < NCH - 1; c++) acc[c] = _mm256_fmadd_ps(pv, _mm256_loadu_ps(v + c * 8), acc[c]);
    const __m256 last = full ? _mm256_loadu_ps(v + (NCH - 1) * 8) : _mm256_maskload_ps(v + (NCH - 1) * 8, m);
    acc[NCH - 1] = _mm256_fmadd_ps(pv, last, acc[NCH - 1]);
  }
  for (int c = 0; c < NCH - 1; c++) _mm256_storeu_ps(o + d0 + c * 8, acc[c]);
  if (full) _mm256_storeu_ps(o + d0 + (NCH - 1) * 8, acc[NCH - 1]);
  else _mm256_maskstore_ps(o + d0 + (NCH - 1) * 8, m, acc[NCH - 1]);
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

}  // namespace avx2
#endif

// rowArgmax, the definition: best = x[0], then every later value that is strictly greater (so
// the first index of the largest value; NaN is never greater, and a leading NaN is never beaten).
void argmax_row_portable(const float* x, i64 V, int32_t* idx, float* mx) {
  float best = x[0];
  int32_t at = 0;
  for (i64 i = 1; i < V; i++) if (x[i] > best) { best = x[i]; at = (int32_t)i; }
  *idx = at;
  *mx = best;
}

// ------------------------------------------------------------------------------------------------
// Attention (shared driver, per-path inner loops).
struct AttnArgs {
  float* out; const float* qkv; const float* kc; const float* vc;
  const int32_t* seq; const int32_t* pos; const int32_t* table;
  i64 maxB, bs, n, nHead, C; float* scratch;
  i64 h0, h1;  // heads computed: [h0, h1)
};

thread_local std::vector<i64> g_slots;

void softmax_row_portable(float* sc, i64 T) {
  float mx = -INFINITY;
  for (i64 t = 0; t < T; t++) mx = sc[t] > mx ? sc[t] : mx;
  double sum = 0;
  for (i64 t = 0; t < T; t++) {
    const float e = std::exp(sc[t] - mx);
    sc[t] = e;
    sum += e;
  }
  const double inv = 1.0 / sum;
  for (i64 t = 0; t < T; t++) sc[t] = (float)(sc[t] * inv);
}

void attention_k(const AttnArgs& a, bool simd) {
  const i64 C = a.C, D = C / a.nHead;
  const float scale = (float)(1.0 / std::sqrt((double)D));
  for (i64 r = 0; r < a.n; r++) {
    const i64 s = a.seq[r], P = a.pos[r], T = P + 1;
    if ((i64)g_slots.size() < T) g_slots.resize((size_t)T);
    i64* slot = g_slots.data();
    for (i64 t = 0; t < T; t++) slot[t] = ((i64)a.table[s * a.maxB + t / a.bs] * a.bs + t % a.bs) * C;
    float* sc = a.scratch;
    for (i64 h = a.h0; h < a.h1; h++) {
      const float* q = a.qkv + r * 3 * C + h * D;
      const i64 hd = h * D;
      // scores
#if PG_HAVE_AVX2_PATH
      if (simd) {
        i64 t = 0;
        for (; t + 4 <= T; t += 4)
          avx2::dots4(q, a.kc + slot[t] + hd, a.kc + slot[t + 1] + hd, a.kc + slot[t + 2] + hd, a.kc + slot[t + 3] + hd, D, sc + t);
        for (; t < T; t++) {
          float tmp[4];
          const float* k = a.kc + slot[t] + hd;
          avx2::dots4(q, k, k, k, k, D, tmp);
          sc[t] = tmp[0];
        }
        for (t = 0; t < T; t++) sc[t] *= scale;
        avx2::softmax_row(sc, T);
      } else
#endif
      {
        for (i64 t = 0; t < T; t++) sc[t] = portable::dot8(q, a.kc + slot[t] + hd, D) * scale;
        softmax_row_portable(sc, T);
      }
      float* o = a.out + r * C + hd;
#if PG_HAVE_AVX2_PATH
      if (simd) {
        for (i64 d0 = 0; d0 < D; d0 += 64) {
          const int nch = (int)((D - d0 + 7) / 8 < 8 ? (D - d0 + 7) / 8 : 8);
          const float* vbase = a.vc + hd;
          switch (nch) {
            case 8: avx2::weighted_sum<8>(o, vbase, slot, sc, T, D, d0); break;
            case 7: avx2::weighted_sum<7>(o, vbase, slot, sc, T, D, d0); break;
            case 6: avx2::weighted_sum<6>(o, vbase, slot, sc, T, D, d0); break;
            case 5: avx2::weighted_sum<5>(o, vbase, slot, sc, T, D, d0); break;
            case 4: avx2::weighted_sum<4>(o, vbase, slot, sc, T, D, d0); break;
            case 3: avx2::weighted_sum<3>(o, vbase, slot, sc, T, D, d0); break;
            case 2: avx2::weighted_sum<2>(o, vbase, slot, sc, T, D, d0); break;
            default: avx2::weighted_sum<1>(o, vbase, slot, sc, T, D, d0); break;
          }
        }
      } else
#endif
      {
        for (i64 d = 0; d < D; d++) o[d] = 0;
        for (i64 t = 0; t < T; t++) {
          const float p = sc[t];
          const float* v = a.vc + slot[t] + hd;
          for (i64 d = 0; d < D; d++) o[d] = o[d] + p * v[d];
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Dispatch.
bool detect_simd() {
#if PG_HAVE_AVX2_PATH
  const char* env = std::getenv("PIPEGPT_NATIVE_SIMD");
  if (env && std::strcmp(env, "portable") == 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
const bool g_simd = detect_simd();  // process-wide, immutable after load

// columns [j0, j1) of out [n, O] = x · w + b; w is the contiguous column shard [I, j1 - j0]
// (all of w [I, O] when the range is everything)
void matmul_k(float* out, const float* x, const float* w, const float* b, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 W = j1 - j0;
#if PG_HAVE_AVX2_PATH
  if (g_simd) return avx2::matmul(out + j0, x, w, b + j0, n, I, W, W, O);
#endif
  portable::matmul(out + j0, x, w, b + j0, n, I, W, W, O);
}
void lmhead_k(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V) {
#if PG_HAVE_AVX2_PATH
  if (g_simd) return avx2::lmhead(out, x, wte, m, C, V);
#endif
  portable::lmhead(out, x, wte, m, C, V);
}
void gelu_k(float* out, const float* inp, i64 len) {
#if PG_HAVE_AVX2_PATH
  if (g_simd) return avx2::gelu(out, inp, len);
#endif
  portable::gelu(out, inp, len);
}

// ------------------------------------------------------------------------------------------------
// Node-API glue. Arguments are typed-array views (ordinary or SharedArrayBuffer-backed); the
// kernels work on their memory directly. Sizes are checked so a bad call throws, never crashes.

struct Args {
  napi_env env;
  napi_value v[16];
  size_t argc = 16;
  bool ok = true;
  Args(napi_env e, napi_callback_info info, size_t want, const char* fn) : env(e) {
    napi_get_cb_info(env, info, &argc, v, nullptr, nullptr);
    if (argc < want) fail(fn, "too few arguments");
  }
  void fail(const char* fn, const char* msg) {
    if (!ok) return;
    ok = false;
    char buf[256];
    std::snprintf(buf, sizeof buf, "pipegpt_native.%s: %s", fn, msg);
    napi_throw_type_error(env, nullptr, buf);
  }
  template <typename T>
  T* arr(size_t i, napi_typedarray_type want, i64 need, const char* fn, const char* name) {
    if (!ok) return nullptr;
    bool is = false;
    napi_is_typedarray(env, v[i], &is);
    char msg[160];
    if (!is) { std::snprintf(msg, sizeof msg, "%s must be a typed array", name); fail(fn, msg); return nullptr; }
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_get_typedarray_info(env, v[i], &type, &len, &data, nullptr, nullptr);
    if (type != want) {
      std::snprintf(msg, sizeof msg, "%s must be a %s", name, want == napi_float32_array ? "Float32Array" : "Int32Array");
      fail(fn, msg);
      return nullptr;
    }
    if (need < 0 || (i64)len < need) {
      std::snprintf(msg, sizeof msg, "%s has %zu elements, needs %lld", name, len, (long long)need);
      fail(fn, msg);
      return nullptr;
    }
    if (len > 0 && !data) { std::snprintf(msg, sizeof msg, "%s is detached", name); fail(fn, msg); return nullptr; }
    return static_cast<T*>(data);
  }
  float* f32(size_t i, i64 need, const char* fn, const char* name) { return arr<float>(i, napi_float32_array, need, fn, name); }
  int32_t* i32(size_t i, i64 need, const char* fn, const char* name) { return arr<int32_t>(i, napi_int32_array, need, fn, name); }
  i64 num(size_t i, const char* fn, const char* name) {
    if (!ok) return 0;
    int64_t x = 0;
    if (napi_get_value_int64(env, v[i], &x) != napi_ok || x < 0) {
      char msg[128];
      std::snprintf(msg, sizeof msg, "%s must be a non-negative integer", name);
      fail(fn, msg);
    }
    return x;
  }
  // optional [lo, hi) at arguments i, i + 1 (absent or undefined: [0, max)); needs lo ≤ hi ≤ max
  void range(size_t i, i64 max, const char* fn, const char* name, i64& lo, i64& hi) {
    if (!ok || argc < i + 2) return;
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    if (t == napi_undefined) return;
    lo = num(i, fn, name);
    hi = num(i + 1, fn, name);
    if (ok && (lo > hi || hi > max)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "%s must satisfy 0 <= lo <= hi <= %lld, got %lld, %lld", name, (long long)max, (long long)lo, (long long)hi);
      fail(fn, msg);
    }
  }
  double dbl(size_t i, const char* fn, const char* name) {
    if (!ok) return 0;
    double x = 0;
    if (napi_get_value_double(env, v[i], &x) != napi_ok) {
      char msg[128];
      std::snprintf(msg, sizeof msg, "%s must be a number", name);
      fail(fn, msg);
    }
    return x;
  }
};

napi_value js_embedding(napi_env env, napi_callback_info info) {
  const char* F = "embedding";
  Args a(env, info, 7, F);
  const i64 n = a.num(5, F, "n"), C = a.num(6, F, "C");
  float* out = a.f32(0, n * C, F, "out");
  int32_t* tok = a.i32(1, n, F, "tokens");
  int32_t* pos = a.i32(2, n, F, "positions");
  float* wte = a.f32(3, 0, F, "wte");
  float* wpe = a.f32(4, 0, F, "wpe");
  if (!a.ok) return nullptr;
  size_t lte, lpe;
  napi_get_typedarray_info(env, a.v[3], nullptr, &lte, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.v[4], nullptr, &lpe, nullptr, nullptr, nullptr);
  for (i64 r = 0; r < n; r++)
    if (tok[r] < 0 || (i64)(tok[r] + 1) * C > (i64)lte || pos[r] < 0 || (i64)(pos[r] + 1) * C > (i64)lpe) {
      a.fail(F, "token or position out of range");
      return nullptr;
    }
  embedding_k(out, tok, pos, wte, wpe, n, C);
  return nullptr;
}

napi_value js_layernorm(napi_env env, napi_callback_info info) {
  const char* F = "layernorm";
  Args a(env, info, 7, F);
  const i64 n = a.num(4, F, "n"), C = a.num(5, F, "C");
  const double eps = a.dbl(6, F, "eps");
  float* out = a.f32(0, n * C, F, "out");
  float* inp = a.f32(1, n * C, F, "inp");
  float* w = a.f32(2, C, F, "w");
  float* b = a.f32(3, C, F, "b");
  if (!a.ok) return nullptr;
  layernorm_k(out, inp, w, b, n, C, eps);
  return nullptr;
}

// matmul(out, inp, w, bias, n, I, O[, j0, j1]); with a range, w is the column shard [I, j1 - j0]
napi_value js_matmul(napi_env env, napi_callback_info info) {
  const char* F = "matmul";
  Args a(env, info, 7, F);
  const i64 n = a.num(4, F, "n"), I = a.num(5, F, "I"), O = a.num(6, F, "O");
  i64 j0 = 0, j1 = O;
  a.range(7, O, F, "j0, j1", j0, j1);
  float* out = a.f32(0, n * O, F, "out");
  float* inp = a.f32(1, n * I, F, "inp");
  float* w = a.f32(2, I * (j1 - j0), F, "w");
  float* b = a.f32(3, O, F, "bias");
  if (!a.ok) return nullptr;
  if (n > 0 && j1 > j0) matmul_k(out, inp, w, b, n, I, O, j0, j1);
  return nullptr;
}

napi_value js_gelu(napi_env env, napi_callback_info info) {
  const char* F = "gelu";
  Args a(env, info, 3, F);
  const i64 len = a.num(2, F, "len");
  float* out = a.f32(0, len, F, "out");
  float* inp = a.f32(1, len, F, "inp");
  if (!a.ok) return nullptr;
  gelu_k(out, inp, len);
  return nullptr;
}

napi_value js_residual(napi_env env, napi_callback_info info) {
  const char* F = "residual";
  Args a(env, info, 4, F);
  const i64 len = a.num(3, F, "len");
  float* out = a.f32(0, len, F, "out");
  float* x = a.f32(1, len, F, "a");
  float* y = a.f32(2, len, F, "b");
  if (!a.ok) return nullptr;
  residual_k(out, x, y, len);
  return nullptr;
}

napi_value js_kvwrite(napi_env env, napi_callback_info info) {
  const char* F = "kvWrite";
  Args a(env, info, 6, F);
  const i64 n = a.num(4, F, "n"), C = a.num(5, F, "C");
  i64 c0 = 0, c1 = C;
  a.range(6, C, F, "c0, c1", c0, c1);
  float* qkv = a.f32(0, n * 3 * C, F, "qkv");
  float* kc = a.f32(1, 0, F, "kCache");
  float* vc = a.f32(2, 0, F, "vCache");
  int32_t* slots = a.i32(3, n, F, "slots");
  if (!a.ok) return nullptr;
  size_t lk, lv;
  napi_get_typedarray_info(env, a.v[1], nullptr, &lk, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.v[2], nullptr, &lv, nullptr, nullptr, nullptr);
  for (i64 r = 0; r < n; r++)
    if (slots[r] < 0 || (i64)(slots[r] + 1) * C > (i64)lk || (i64)(slots[r] + 1) * C > (i64)lv) {
      a.fail(F, "slot out of range");
      return nullptr;
    }
  kvwrite_k(qkv, kc, vc, slots, n, C, c0, c1);
  return nullptr;
}

// attention(out, qkv, kCache, vCache, seqIds, positions, blockTable, maxBlocksPerSeq, blockSize, n, nHead, C, scratch[, h0, h1])
napi_value js_attention(napi_env env, napi_callback_info info) {
  const char* F = "attention";
  Args a(env, info, 13, F);
  const i64 maxB = a.num(7, F, "maxBlocksPerSeq"), bs = a.num(8, F, "blockSize");
  const i64 n = a.num(9, F, "n"), nHead = a.num(10, F, "nHead"), C = a.num(11, F, "C");
  if (a.ok && (nHead == 0 || C % nHead != 0 || bs == 0)) a.fail(F, "need nHead > 0 dividing C and blockSize > 0");
  AttnArgs k{};
  k.h0 = 0;
  k.h1 = nHead;
  a.range(13, nHead, F, "h0, h1", k.h0, k.h1);
  k.out = a.f32(0, n * C, F, "out");
  k.qkv = a.f32(1, n * 3 * C, F, "qkv");
  k.kc = a.f32(2, 0, F, "kCache");
  k.vc = a.f32(3, 0, F, "vCache");
  k.seq = a.i32(4, n, F, "seqIds");
  k.pos = a.i32(5, n, F, "positions");
  k.table = a.i32(6, 0, F, "blockTable");
  k.scratch = a.f32(12, 0, F, "scratch");
  if (!a.ok) return nullptr;
  size_t lk, lv, lt, ls;
  napi_get_typedarray_info(env, a.v[2], nullptr, &lk, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.v[3], nullptr, &lv, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.v[6], nullptr, &lt, nullptr, nullptr, nullptr);
  napi_get_typedarray_info(env, a.v[12], nullptr, &ls, nullptr, nullptr, nullptr);
  const i64 cacheRows = (i64)(lk < lv ? lk : lv) / (C ? C : 1);
  for (i64 r = 0; r < n; r++) {
    const i64 s = k.seq[r], p = k.pos[r];
    if (s < 0 || p < 0 || p + 1 > (i64)ls || p / bs >= maxB || (s + 1) * maxB > (i64)lt) {
      a.fail(F, "sequence id or position out of range (or scratch too small)");
      return nullptr;
    }
    for (i64 b = 0; b <= p / bs; b++) {
      const i64 blk = k.table[s * maxB + b];
      if (blk < 0 || (blk + 1) * bs > cacheRows) { a.fail(F, "block table entry out of range"); return nullptr; }
    }
  }
  k.maxB = maxB; k.bs = bs; k.n = n; k.nHead = nHead; k.C = C;
  attention_k(k, g_simd);
  return nullptr;
}

napi_value js_lmhead(napi_env env, napi_callback_info info) {
  const char* F = "lmHead";
  Args a(env, info, 6, F);
  const i64 m = a.num(3, F, "m"), C = a.num(4, F, "C"), V = a.num(5, F, "V");
  float* out = a.f32(0, m * V, F, "out");
  float* inp = a.f32(1, m * C, F, "inp");
  float* wte = a.f32(2, V * C, F, "wte");
  if (!a.ok) return nullptr;
  lmhead_k(out, inp, wte, m, C, V);
  return nullptr;
}

napi_value js_logsoftmax(napi_env env, napi_callback_info info) {
  const char* F = "logSoftmax";
  Args a(env, info, 4, F);
  const i64 m = a.num(2, F, "m"), V = a.num(3, F, "V");
  float* out = a.f32(0, m * V, F, "out");
  float* inp = a.f32(1, m * V, F, "inp");
  if (!a.ok) return nullptr;
#if PG_HAVE_AVX2_PATH
  if (g_simd) {
    for (i64 r = 0; r < m; r++) avx2::logsoftmax_row(out + r * V, inp + r * V, V);
    return nullptr;
  }
#endif
  logsoftmax_k(out, inp, m, V);
  return nullptr;
}

// rowArgmax(idx, max, inp, m, V)
napi_value js_rowargmax(napi_env env, napi_callback_info info) {
  const char* F = "rowArgmax";
  Args a(env, info, 5, F);
  const i64 m = a.num(3, F, "m"), V = a.num(4, F, "V");
  if (a.ok && m > 0 && V == 0) a.fail(F, "V must be at least 1");
  int32_t* idx = a.i32(0, m, F, "idx");
  float* mx = a.f32(1, m, F, "max");
  float* inp = a.f32(2, m * V, F, "inp");
  if (!a.ok) return nullptr;
  for (i64 r = 0; r < m; r++) {
#if PG_HAVE_AVX2_PATH
    if (g_simd) { avx2::argmax_row(inp + r * V, V, idx + r, mx + r); continue; }
#endif
    argmax_row_portable(inp + r * V, V, idx + r, mx + r);
  }
  return nullptr;
}

// hugePages(view: Uint8Array) → bytes advised. Asks Linux to back the 2 MiB-aligned part of a
// (not yet touched) buffer with transparent huge pages (MADV_HUGEPAGE; THP "madvise" mode): a page
// fault then maps 2 MiB instead of 4 KiB, and streaming weights needs 512× fewer TLB entries.
// 0 where unsupported; never changes the buffer's contents.
napi_value js_hugepages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value ab;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "hugePages(view): expected a Uint8Array");
    return nullptr;
  }
  double advised = 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t H = (uintptr_t)2 << 20;
  const uintptr_t b = ((uintptr_t)data + H - 1) & ~(H - 1), e = ((uintptr_t)data + length) & ~(H - 1);
  if (e > b && madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE) == 0) advised = (double)(e - b);
#endif
  napi_value r;
  napi_create_double(env, advised, &r);
  return r;
}

}  // namespace

NAPI_MODULE_INIT() {
  struct { const char* name; napi_callback cb; } fns[] = {
      {"embedding", js_embedding}, {"layernorm", js_layernorm}, {"matmul", js_matmul},
      {"gelu", js_gelu}, {"residual", js_residual}, {"kvWrite", js_kvwrite},
      {"attention", js_attention}, {"lmHead", js_lmhead}, {"logSoftmax", js_logsoftmax}, {"rowArgmax", js_rowargmax},
      {"hugePages", js_hugepages},
  };
  for (auto& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    napi_set_named_property(env, exports, f.name, fn);
  }
  napi_value simd, arch;
  napi_create_string_utf8(env, g_simd ? "avx2-fma" : "portable", NAPI_AUTO_LENGTH, &simd);
  napi_set_named_property(env, exports, "simd", simd);
#if defined(__x86_64__)
  const char* a = "x64";
#elif defined(__aarch64__)
  const char* a = "arm64";
#else
  const char* a = "other";
#endif
  napi_create_string_utf8(env, a, NAPI_AUTO_LENGTH, &arch);
  napi_set_named_property(env, exports, "arch", arch);
  return exports;
}
