// pipegpt native kernels: the KernelSet ops (src/kernels/names.ts) in C++ behind plain Node-API.
//
// Files:
//   kernels.h        this: shared types, the per-ISA dispatch table (Path), the drivers
//   portable.cc      ops with one implementation, and the portable Path (plain C++ the compiler
//                    may auto-vectorize with the baseline ISA)
//   drivers.cc       attention, rope, rmsnorm, matmul: loops over rows/heads that call a Path's
//                    inner kernels (no ISA-specific arithmetic of their own)
//   simd_avx2*.cc    the avx2-fma Path: explicit AVX2/FMA intrinsics (functions compiled with
//                    target("avx2,fma")); simd_avx2_gemm.cc holds matmul and lmHead
//   quant.cc         matmulQ8 (= quantizeRowsQ8 + matmulQ8Rows), matmul16 and embeddingQ8 drivers
//                    (activation quantization, the per-block float combination, 16-bit widening
//                    into f32 column blocks for the portable path), the portable q8 dots, and the
//                    load-time helpers (quantize, transpose, non-finite check; on every core)
//   simd_avx2_q8.cc  the avx2-fma Path's q8 dots (maddubs) and 16-bit widening (F16C)
//   simd_avx512.cc   the avx512-vnni Path: the avx2-fma Path with vpdpbusd q8 dots and zmm GEMM tiles
//   simd_avx512_gemm.cc  its f32 / 16-bit GEMM (simd_gemm.h blocking, 12 × 32 tiles)
//   simd_gemm.h      the packed GEMM blocking shared by the avx2 and avx512 tiles
//   simd_amx.cc      the amx-int8 Path: avx512-vnni with tdpbssd q8 dots (amx_tiles.h), and
//                    amx-int8-sim: the same kernel on amx_sim.h's software tiles (tests)
//   f16.h            IEEE f16 ⇄ f32 in plain C++ (the portable Path's f16 KV cache)
//   dispatch.cc      the one place that picks a Path: at load, per CPU (PIPEGPT_NATIVE_SIMD=portable
//                    forces the portable one), and per thread on request (setSimd, for tests)
//   napi*.{h,cc}     the Node-API glue (napi_quant.cc: the Q8 ops, matmul16, embeddingQ8 and the load-time
//                    helpers): argument checks, then one driver call
// A new ISA (say avx512 / AMX) is a new simd_*.cc defining a Path, plus one entry in dispatch.cc.
//
// Batch invariance: within one path, every output element is produced by the same sequence of
// floating-point operations whatever the number of rows in the call and whichever tile handles it.
//   matmul   out[r,j] = bias[j] (0 without bias), then one FMA (avx2) / mul+add (portable) per k
//            in order k = 0..I-1, on a single f32 accumulator (stored/reloaded exactly between k-blocks);
//   lmHead   out[r,v] = hsum8(acc) where acc lane l sums c ≡ l (mod 8) in increasing c with FMA
//            (a partial last chunk is read zero-padded) and hsum8 is one fixed tree;
//   rmsnorm, the q/k norm of rope: Σx² in f64 in 8 interleaved partial sums and one tree (every path), then
//            w · f32(x · s) elementwise; rope's rotation is f32 mul, mul, sub/add without FMA. Both
//            are bit-identical across paths (and to the reference backend).
//   matmulQ8 out[r,j] = (bias +) s, s = Σ_b f32(f32(xd·ws)·S_b) in increasing b, f32 mul, mul, add
//            (no FMA) on every path; only the int32 block dots S_b (exact in any order) come from
//            the path (avx512-vnni fuses dots and that combination in registers: q8_tile). matmul16 widens w exactly (in registers, or while packing
//            the GEMM panels) and runs matmul_acc's chains: the same bits as matmul.
//   The avx512-vnni path's GEMM (simd_avx512_gemm.cc) runs the avx2 chains on zmm tiles: the FMA
//   paths agree bit for bit (test/kernels/simd-paths.test.ts); portable differs for f32 matmuls.
//   attention with an f16 KV cache: the f32 cache's chains on the values widened exactly (f16.h /
//            F16C), so the bits of an f32 cache holding them; kvwrite16 rounds to nearest even.
// every kernel (GEMV, packed GEMM, row tiles, remainder tiles) follows exactly that recipe.
// Column ranges (a tensor-parallel rank's share of a matmul) run the same code with w a
// contiguous column shard [I, j1 - j0] and out + j0 with row stride O. The chain per element is
// unchanged. Every file is built with -ffp-contract=off so scalar code never gets contracted silently.
//
// All kernels are single-threaded, allocate only thread_local scratch, and keep no JS state, so
// the addon loads in any number of worker threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// -DPG_PORTABLE_ONLY builds the portable path alone (what a non-x86 or non-GCC/clang build gets)
#if !defined(PG_PORTABLE_ONLY) && (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PG_HAVE_AVX2_PATH 1
#define PG_AVX2 __attribute__((target("avx2,fma")))
#define PG_AVX2_F16C __attribute__((target("avx2,fma,f16c")))  // + vcvtph2ps / vcvtps2ph
#else
#define PG_HAVE_AVX2_PATH 0
#endif

namespace pg {

using i64 = int64_t;

// The inner kernels whose code differs by ISA. Rows of a call never interact, so each entry is
// per row (or per row segment) unless it says otherwise.
// A position in a q8 KV cache (kv_cache_dtype int8; src/kernels/quant.ts Q8 KV rows): the cache is
// flat channels e = slot·KV + c in blocks of 32, block e/32 at byte (e/32)·36 = [d f32 | 32 int8 q];
// value e = f32(q·d). Used like a pointer (k + off, k[i]) so the attention loops take it as they take
// const float* / const uint16_t*; vector loads read 8 channels of one block (8 | e).
struct KvQ8 {
  const uint8_t* base;
  i64 e;
  static constexpr i64 kBlockBytes = 36;
  KvQ8 operator+(i64 x) const { return {base, e + x}; }
  const uint8_t* block() const { return base + (e >> 5) * kBlockBytes; }
  const int8_t* q() const { return reinterpret_cast<const int8_t*>(block() + 4) + (e & 31); }
  float d() const { float v; std::memcpy(&v, block(), 4); return v; }
  float operator[](i64 i) const { return (*this + i).d() * (float)*(*this + i).q(); }
};

// One LayerNorm row: mean and variance in f64, each as 16 interleaved partial sums (lane l: c ≡ l
// mod 16, increasing c) folded by halves (lane l += lane l + 8, then + 4, + 2, + 1); then
// out[c] = f32((x[c] − mean) · rstd · w[c] + b[c]) in f64. Each path compiles this one body for
// its ISA (Path::layernorm_row): the lanes are independent chains and the rest is elementwise, so
// the compiler's vectors keep every operation and its order (no -ffast-math, -ffp-contract=off),
// and every path gives the same bits. (Four lanes left each pass a chain of C/4 dependent adds.)
__attribute__((always_inline)) inline double fold16(double* s) {
  for (int h = 8; h >= 1; h /= 2)
    for (int l = 0; l < h; l++) s[l] += s[l + h];
  return s[0];
}
__attribute__((always_inline)) inline void layernorm_row_body(float* o, const float* x, const float* w, const float* b, i64 C, double eps) {
  constexpr int L = 16;
  double s[L] = {0};
  i64 c = 0;
  for (; c + L <= C; c += L)
    for (int l = 0; l < L; l++) s[l] += (double)x[c + l];
  for (int l = 0; c < C; c++, l++) s[l] += (double)x[c];
  const double mean = fold16(s) / (double)C;
  double v[L] = {0};
  for (c = 0; c + L <= C; c += L)
    for (int l = 0; l < L; l++) {
      const double d = (double)x[c + l] - mean;
      v[l] += d * d;
    }
  for (int l = 0; c < C; c++, l++) {
    const double d = (double)x[c] - mean;
    v[l] += d * d;
  }
  const double rstd = 1.0 / std::sqrt(fold16(v) / (double)C + eps);
  for (c = 0; c < C; c++) o[c] = (float)(((double)x[c] - mean) * rstd * (double)w[c] + (double)b[c]);
}

struct Path {
  const char* name;  // "portable" | "avx2-fma" (exported to JS as-is)
  // out[r, 0:O] += x[r, :] · w for n rows; out already holds the bias (or 0). out row stride ldo,
  // w [I, O] with row stride ldw.
  void (*matmul_acc)(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
  void (*lmhead)(float* out, const float* x, const float* w, i64 m, i64 C, i64 V, i64 ldo);  // all m rows, out rows ldo apart
  void (*gelu)(float* out, const float* inp, i64 len);
  // o[j] = silu(g[j]) · u[j], silu(g) = g / (1 + e^-g) evaluated as (g ≥ 0 ? g : g·e) / (1 + e), e = e^-|g|
  void (*swiglu)(float* o, const float* g, const float* u, i64 len);
  // o[c] = w[c] · f32(x[c] · s) (f64 product rounded to f32, then an f32 product); o may be x
  void (*scale_mul)(float* o, const float* x, const float* w, double s, i64 len);
  // x[i], x[i + half] ← x[i]·c − x[i+half]·s, x[i+half]·c + x[i]·s (f32, no FMA), i < half
  void (*rotate_half)(float* x, const float* cos, const float* sin, i64 half);
  void (*logsoftmax_row)(float* o, const float* x, i64 V);  // o may be x
  void (*argmax_row)(const float* x, i64 V, int32_t* idx, float* mx);
  // attention of one (row, head) over T keys/values at k + off[t], v + off[t]. Scores are
  // independent per t and values accumulate onto o in t order, so the driver may call both on
  // consecutive blocks of t with the same result bits as one call over all T:
  void (*attn_scores)(float* sc, const float* q, const float* k, const i64* off, i64 T, i64 D, float scale);
  void (*softmax)(float* sc, i64 T);  // in place over the whole row, Σ in f64
  void (*attn_values)(float* o, const float* v, const i64* off, const float* p, i64 T, i64 D);  // o += Σ p[t]·v_t
  // Q8 block dots of n activation rows xq [n, Ip] (Ip = nb·32, zero-padded) with 16 weight rows
  // w [16, ldw] (Ip bytes readable per row): dst[(r·nb + b)·16 + jj] = Σ_{k<32} xq[r, 32b+k]·w[jj, 32b+k].
  // Values in [-127, 127] on both sides (int32, exact).
  void (*q8_dots)(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip);
  // One row's 16 outputs from its block dots: s[jj] = 0, then for b = 0..nb-1 in order
  // s[jj] = s[jj] + f32(f32(xd[b]·wsT[b·16 + jj]) · f32(isum[b·16 + jj])) (f32 mul, mul, add; no FMA)
  void (*q8_combine)(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb);
  // dst[i] = f32 value of 16-bit src[i]; kind 0 = bf16, 1 = IEEE f16 (exact)
  void (*widen16)(float* dst, const uint16_t* src, i64 len, int kind);
  // matmul_acc's exact chains with w [I, O] 16-bit (row stride ldw), widened in registers (≤ 8 rows)
  // or while packing (more), never through an f32 copy; null where the path has none (then:
  // widen16 into scratch + matmul_acc)
  void (*matmul16_acc)(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
  // One row's Q8 quantization: the portable path's is quant.cc quantize_row_q8 (the definition);
  // the SIMD paths' give its exact result (same f32 amax and scale, same f64 quotient, floor,
  // clamp) with vectors. The scalar f64 division per value was ~half of matmulQ8's time at 32 rows.
  void (*quantize_row_q8)(int8_t* q, float* d, const float* x, i64 I) = nullptr;
  // The f16 KV cache (kv_cache_dtype float16): k, v hold IEEE f16 bits, widened exactly to f32 and
  // then the same arithmetic as attn_scores / attn_values on f32 values (the same bits).
  void (*attn_scores16)(float* sc, const float* q, const uint16_t* k, const i64* off, i64 T, i64 D, float scale) = nullptr;
  void (*attn_values16)(float* o, const uint16_t* v, const i64* off, const float* p, i64 T, i64 D) = nullptr;
  // The q8 KV cache (kv_cache_dtype int8, KvQ8): each value read back as f32(q·d), then the same
  // arithmetic as attn_scores / attn_values on f32 values (the same bits).
  void (*attn_scores8)(float* sc, const float* q, KvQ8 k, const i64* off, i64 T, i64 D, float scale) = nullptr;
  void (*attn_values8)(float* o, KvQ8 v, const i64* off, const float* p, i64 T, i64 D) = nullptr;
  // dst[i] = f16 bits of src[i], round to nearest even (f16.h f32_to_f16's bits; NaN payloads aside)
  void (*narrow16)(uint16_t* dst, const float* src, i64 len) = nullptr;
  // q8_dots then q8_combine for rows [0, n) of one 16-row weight tile, fused (the block dots never
  // leave registers): s[r·16 + jj] = q8_combine's s[jj] for row r. xs [n, nb] = Σ_{k<32} xq[r, 32b+k]
  // (for paths that offset the weights to u8). Same bits as the two calls; null where the path has
  // none. The driver calls it for n ≥ 4 rows (fewer go through q8_dots and q8_combine).
  void (*q8_tile)(float* s, const int8_t* xq, const float* xd, const int32_t* xs, i64 n, const int8_t* w, i64 ldw, i64 Ip, const float* wsT) = nullptr;
  // layernorm_row_body compiled for the path (o may be x)
  void (*layernorm_row)(float* o, const float* x, const float* w, const float* b, i64 C, double eps) = nullptr;
};

extern const Path kPortablePath;
#if PG_HAVE_AVX2_PATH
extern const Path kAvx2Path;
const Path& avx512_vnni_path();  // simd_avx512.cc: kAvx2Path with its own q8_dots and GEMM tiles
#endif
const Path& amx_int8_path();     // simd_amx.cc: avx512_vnni_path() with AMX q8_dots for 16-row groups
bool cpu_has_amx_int8();         // AMX-TILE + AMX-INT8, the kernel's permission to use tiles, and the self-check
const Path& amx_int8_sim_path(); // simd_amx.cc: amx-int8 on software tiles (forced only; needs avx512-vnni)

// quant.cc: the portable Path's entries
void q8_dots_portable(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip);
void widen16_portable(float* dst, const uint16_t* src, i64 len, int kind);
// load time: wq [O, I] int8, ws [O, ceil(I/32)] ← the rows of src [O, I], f32 (kind -1) or 16-bit (kind as
// widen16), quantized as quantize_row_q8 quantizes f32 rows; the index of the first NaN / ±inf, else -1
i64 quantize_rows_q8_from(const Path& p, int8_t* wq, float* ws, const void* src, int kind, i64 I, i64 O);
// rows [i0, i0 + R) of a linear w [I, O], src [R, O] (kind as above), into its columns' q8 rows: the bytes
// quantize_rows_q8_from gives the transposed matrix there; the index in src of the first NaN / ±inf, else -1
i64 quantize_cols_band_q8(const Path& p, int8_t* wq, float* ws, const void* src, int kind, i64 I, i64 O, i64 i0, i64 R);
// dst[i] = src[i] rounded to nearest even to bf16 (kind 0) or f16 (kind 1, p.narrow16) bits (load time)
void narrow_16(const Path& p, uint16_t* dst, const float* src, i64 n, int kind);
void q8_combine_portable(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb);

// dispatch.cc
const Path& default_path();   // picked once per process: CPU features, PIPEGPT_NATIVE_SIMD
const Path& path();           // this thread's (the default unless set_path changed it)
// "portable" | "avx2-fma" | "default"; false (path unchanged) when unknown or not supported here
bool set_path(const char* name);

enum class KvKind { f32, f16, q8 };  // a KV cache's element type (names.ts KvCache)

struct AttnArgs {
  float* out; const float* qkv;
  const void* kc; const void* vc;  // the layer's K and V: f32, IEEE f16 bits or q8 blocks, as kv says
  KvKind kv;
  const int32_t* seq; const int32_t* pos; const int32_t* table;
  i64 maxB, bs, n, nHead, nKv, D, window;
  float* scratch;  // the caller's (size-checked for the contract; the driver keeps its own score rows)
  i64 h0, h1;  // query heads computed: [h0, h1), whole KV groups
};

struct RopeArgs {
  float* qkv; const int32_t* pos; const float* cos; const float* sin;
  i64 n, nHead, nKv, D;
  const float* qn; const float* kn;  // [D] per-head norm weights, or null
  double eps;
  i64 h0, h1;  // query heads [h0, h1) and key heads [h0 / G, h1 / G), G = nHead / nKv
};

// portable.cc: ops with a single implementation
void embedding(float* out, const int32_t* tok, const int32_t* pos, const float* wte, const float* wpe, i64 n, i64 C);
void residual(float* out, const float* a, const float* b, i64 len);
void kvwrite(const float* qkv, float* kc, float* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1);

// drivers.cc
void matmul(const Path& p, float* out, const float* x, const float* w, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1);
void rmsnorm(const Path& p, float* out, const float* inp, const float* w, i64 n, i64 C, double eps);
void swiglu(const Path& p, float* out, const float* gu, i64 n, i64 I, i64 j0, i64 j1);
void rope(const Path& p, const RopeArgs& a);
void attention(const Path& p, const AttnArgs& a);
// kvwrite into an f16 cache: each k/v value rounded by p.narrow16
void kvwrite16(const Path& p, const float* qkv, uint16_t* kc, uint16_t* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1);
// kvwrite into a q8 cache (KvQ8 layout): each 32-channel block of [c0, c1) quantized by the path's
// quantize_row_q8 (c0, c1, kvDim multiples of 32)
void kvwrite8(const Path& p, const float* qkv, uint8_t* kc, uint8_t* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1);

// quant.cc
// columns [j0, j1) of out [n, O] = Q8 product (names.ts matmulQ8); wq [j1-j0, I], ws [j1-j0, nb]
void matmul_q8(const Path& p, float* out, const float* x, const int8_t* wq, const float* ws, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1);
// matmul_q8 in two halves (names.ts quantizeRowsQ8, matmulQ8Rows): rows of x quantized once into
// xq [n, I] / xd [n, nb], then any number of products (column ranges, weight blocks) from them
void quantize_rows_q8(const Path& p, int8_t* xq, float* xd, const float* x, i64 n, i64 I);
void matmul_q8_rows(const Path& p, float* out, const int8_t* xq, const float* xd, const int8_t* wq, const float* ws, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1);
// columns [j0, j1) of out = x · f32(w) + bias, w the 16-bit column shard [I, j1-j0]; kind as widen16
void matmul_16(const Path& p, float* out, const float* x, const uint16_t* w, int kind, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1);
// out[r] = Q8 row tok[r] of wq [V, C] / ws [V, ceil(C/32)] dequantized (+ wpe[pos[r]]) (names.ts embeddingQ8)
void embedding_q8(float* out, const int32_t* tok, const int32_t* pos, const int8_t* wq, const float* ws, const float* wpe, i64 n, i64 C);
// load time: index of the first NaN / ±inf in a[0, n), else -1
i64 first_non_finite(const float* a, i64 n);
// load time: dst[i·O + col + j] = src[j·inp + i] (an [out, inp] nn.Linear weight into columns of [inp, O]); T = float or uint16_t
template <typename T>
void transpose_into(T* dst, const T* src, i64 out, i64 inp, i64 O, i64 col);
// load time: index of the first inf / NaN among n 16-bit values (kind as widen16), else -1
i64 first_non_finite16(const uint16_t* a, i64 n, int kind);
// one row's Q8 quantization (src/kernels/quant.ts): q [nb·32] (zero-padded), d [nb]
void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I);

}  // namespace pg
