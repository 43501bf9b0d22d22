// matmulQ8 and matmul16 drivers (contract: src/kernels/names.ts; format: src/kernels/quant.ts),
// and the portable Path's q8 dots and 16-bit widening. Everything with floating-point rounding
// lives here, shared by every path; a path contributes only exact integer block dots (q8_dots)
// and exact widening (widen16), so results are bit-identical across paths and to the reference.
#include <cmath>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "f16.h"
#include "kernels.h"

namespace pg {

constexpr i64 QB = 32;  // Q8 block
constexpr i64 JT = 16;  // weight rows per q8_dots call
constexpr i64 PF = 16 << 10;  // largest next weight tile asked for ahead (q8_product)
constexpr i64 RB = 64;  // activation rows per q8_dots call (isum scratch [RB, nb, 16] ≤ 1.5 KiB·nb, L2)

// d = f32(amax / 127); q = sign · min(127, floor(|x| / d + 1/2)) with the quotient in f64 (quant.ts)
void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I) {
  const i64 nb = (I + QB - 1) / QB;
  for (i64 b = 0; b < nb; b++) {
    const i64 k0 = b * QB, k1 = k0 + QB < I ? k0 + QB : I;
    float amax = 0;
    for (i64 k = k0; k < k1; k++) amax = std::fabs(x[k]) > amax ? std::fabs(x[k]) : amax;
    const float db = amax / 127.0f;
    d[b] = db;
    for (i64 k = k0; k < k1; k++) {
      double v = db == 0.0f ? 0.0 : std::floor(std::fabs((double)x[k]) / (double)db + 0.5);
      v = v > 127.0 ? 127.0 : v;
      q[k] = (int8_t)(x[k] < 0 ? -(int)v : (int)v);
    }
    for (i64 k = k1; k < k0 + QB; k++) q[k] = 0;
  }
}

void q8_dots_portable(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) {
  const i64 nb = Ip / QB;
  for (i64 r = 0; r < n; r++)
    for (i64 b = 0; b < nb; b++)
      for (i64 jj = 0; jj < JT; jj++) {
        const int8_t* a = xq + r * Ip + b * QB;
        const int8_t* c = w + jj * ldw + b * QB;
        int32_t s = 0;
        for (i64 k = 0; k < QB; k++) s += (int32_t)a[k] * (int32_t)c[k];
        dst[(r * nb + b) * JT + jj] = s;
      }
}

void q8_combine_portable(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb) {
  for (i64 jj = 0; jj < JT; jj++) s[jj] = 0.0f;
  for (i64 b = 0; b < nb; b++)
    for (i64 jj = 0; jj < JT; jj++) {
      const float scale = xd[b] * wsT[b * JT + jj];
      const float term = scale * (float)isum[b * JT + jj];
      s[jj] = s[jj] + term;
    }
}

namespace {
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
}  // namespace

void widen16_portable(float* dst, const uint16_t* src, i64 len, int kind) {
  if (kind == 0) for (i64 i = 0; i < len; i++) dst[i] = bits_f32((uint32_t)src[i] << 16);
  else for (i64 i = 0; i < len; i++) dst[i] = f16_to_f32(src[i]);
}

using QuantizeRow = void (*)(int8_t* q, float* d, const float* x, i64 I);

// Load time runs before the workers start, with every core idle: split the rows over up to 4
// threads (each row's result is the same whoever computes it).
template <class F>
static void split_rows(i64 O, F f) {
  const unsigned hw = std::thread::hardware_concurrency();
  const i64 T = std::max<i64>(1, std::min<i64>({(i64)(hw ? hw : 1), 4, O / 64}));
  std::vector<std::thread> ts;
  for (i64 k = 1; k < T; k++) ts.emplace_back([&, k] { f(O * k / T / JT * JT, k + 1 == T ? O : O * (k + 1) / T / JT * JT); });
  f(0, T > 1 ? O / T / JT * JT : O);
  for (auto& t : ts) t.join();
}

void narrow_16(const Path& p, uint16_t* dst, const float* src, i64 n, int kind) {
  if (kind == 1) { p.narrow16(dst, src, n); return; }
  for (i64 i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

// The smallest index offered from any thread (INT64_MAX: none): the first NaN / ±inf of a load
// whose rows several threads check.
struct FirstIndex {
  std::atomic<i64> v{INT64_MAX};
  void offer(i64 at) { for (i64 cur = v.load(); at < cur && !v.compare_exchange_weak(cur, at);) {} }
  i64 get() const { const i64 f = v.load(); return f == INT64_MAX ? -1 : f; }
};

// Values [at, at + len) of src as f32: src's own (kind -1) or widened exactly into buf (kind as widen16)
static const float* values_f32(const Path& p, const void* src, int kind, i64 at, i64 len, float* buf) {
  if (kind < 0) return static_cast<const float*>(src) + at;
  p.widen16(buf, static_cast<const uint16_t*>(src) + at, len, kind);
  return buf;
}

// The rows of src [O, I] (an nn.Linear weight or a table as a checkpoint stores it; f32, kind -1,
// or 16 bits, kind as widen16) quantized into wq [O, I], ws [O, ceil(I/32)], on several threads:
// one pass over the checkpoint's values, no f32 copy of 16-bit ones. Returns the index of the
// first NaN / ±inf, else -1 (every row is quantized either way: the caller refuses such weights).
i64 quantize_rows_q8_from(const Path& p, int8_t* wq, float* ws, const void* src, int kind, i64 I, i64 O) {
  const QuantizeRow qr = p.quantize_row_q8;
  const i64 nb = (I + QB - 1) / QB;
  FirstIndex first;
  split_rows(O, [&](i64 o0, i64 o1) {
    std::vector<float> buf(kind < 0 ? 0 : I);
    std::vector<int8_t> q(nb * QB);
    i64 bad = -1;
    for (i64 j = o0; j < o1; j++) {
      const float* x = values_f32(p, src, kind, j * I, I, buf.data());
      if (bad < 0 && (bad = first_non_finite(x, I)) >= 0) first.offer(j * I + bad);  // this thread's first
      qr(q.data(), ws + j * nb, x, I);
      std::memcpy(wq + j * I, q.data(), (size_t)I);
    }
  });
  return first.get();
}

// Rows [i0, i0 + R) of a linear w [I, O] (R = a band of whole 32-row blocks, or the last rows),
// given as src [R, O] in f32 (kind -1) or 16 bits (kind as widen16), into columns' q8 rows wq [O, I],
// ws [O, ceil(I/32)]: the bytes quantize_rows_q8_from gives the transposed matrix in those blocks
// (each 32-block is quantized on its own), so a Conv1D weight is quantized a chunk of the file at a
// time with no f32 [I, O] copy. Returns the index in src of the first NaN / ±inf, else -1 (several threads).
i64 quantize_cols_band_q8(const Path& p, int8_t* wq, float* ws, const void* src, int kind, i64 I, i64 O, i64 i0, i64 R) {
  const QuantizeRow qr = p.quantize_row_q8;
  const i64 nb = (I + QB - 1) / QB, nbR = (R + QB - 1) / QB;
  FirstIndex first;
  split_rows(O, [&](i64 o0, i64 o1) {
    std::vector<float> row(JT), t(JT * R);
    std::vector<int8_t> q(nbR * QB);
    for (i64 j0 = o0; j0 < o1; j0 += JT) {
      const i64 jt = j0 + JT < o1 ? JT : o1 - j0;
      for (i64 r = 0; r < R; r++) {
        const float* x = values_f32(p, src, kind, r * O + j0, jt, row.data());
        for (i64 jj = 0; jj < jt; jj++) t[jj * R + r] = x[jj];
      }
      for (i64 jj = 0; jj < jt; jj++) {
        const i64 bad = first_non_finite(t.data() + jj * R, R);  // the widened values: the same test
        if (bad >= 0) first.offer(bad * O + j0 + jj);
        qr(q.data(), ws + (j0 + jj) * nb + i0 / QB, t.data() + jj * R, R);
        std::memcpy(wq + (j0 + jj) * I + i0, q.data(), (size_t)R);
      }
    }
  });
  return first.get();
}


// Index of the first element of a[0, n) whose bits have the exponent field `ones` all set (inf or
// NaN), else -1 (load time: every weight is checked). Blocks of 1024 are tested with a branch-free
// OR (vectorized), then searched.
template <typename T, typename U>
static i64 first_exponent_ones(const T* a, i64 n, U ones) {
  static_assert(sizeof(T) == sizeof(U), "the bits of one element");
  auto hit = [&](i64 i) { U u; std::memcpy(&u, a + i, sizeof u); return (u & ones) == ones; };  // memcpy: no aliasing
  constexpr i64 B = 1024;
  for (i64 b = 0; b < n; b += B) {
    const i64 e = std::min(b + B, n);
    unsigned any = 0;
    for (i64 i = b; i < e; i++) any |= (unsigned)hit(i);
    if (!any) continue;
    for (i64 i = b; i < e; i++) if (hit(i)) return i;
  }
  return -1;
}

i64 first_non_finite(const float* a, i64 n) { return first_exponent_ones(a, n, (uint32_t)0x7f800000u); }

// dst[i·O + col + j] = src[j·inp + i]: an nn.Linear weight [out, inp] into columns of [inp, O]
// (load time), f32 or 16-bit. 32 × 32 tiles, so both sides move whole cache lines; threads take
// bands of dst rows.
template <typename T>
void transpose_into(T* dst, const T* src, i64 out, i64 inp, i64 O, i64 col) {
  constexpr i64 TB = 32;
  split_rows(inp, [&](i64 i0, i64 i1) {
    for (i64 jb = 0; jb < out; jb += TB) {
      const i64 je = std::min(jb + TB, out);
      for (i64 ib = i0; ib < i1; ib += TB) {
        const i64 ie = std::min(ib + TB, i1);
        for (i64 i = ib; i < ie; i++)
          for (i64 j = jb; j < je; j++) dst[i * O + col + j] = src[j * inp + i];
      }
    }
  });
}
template void transpose_into<float>(float*, const float*, i64, i64, i64, i64);
template void transpose_into<uint16_t>(uint16_t*, const uint16_t*, i64, i64, i64, i64);

// Index of the first inf / NaN among n 16-bit values (kind as widen16), else -1.
i64 first_non_finite16(const uint16_t* a, i64 n, int kind) { return first_exponent_ones(a, n, (uint16_t)(kind == 1 ? 0x7c00 : 0x7f80)); }

namespace {
thread_local std::vector<int8_t> g_xq, g_wt;
thread_local std::vector<float> g_xd, g_wsT, g_w32;
thread_local std::vector<int32_t> g_isum, g_xs;

// rows of xq [n, Ip] (each zero-padded to whole blocks) in thread-local scratch
int8_t* padded_rows(i64 n, i64 Ip) {
  if ((i64)g_xq.size() < n * Ip) g_xq.resize((size_t)(n * Ip));
  return g_xq.data();
}

// Loop order: 16-row weight tiles outer (a tile, 16·I bytes, stays in L1/L2 while every activation
// row block passes over it), activation rows in blocks of RB. Where a tile has fewer than 16 rows
// or I % 32 ≠ 0, it is copied zero-padded to [16, nb·32] first (zero weights add 0 to S_b).
// xq [n, Ip]: quantized rows zero-padded to whole blocks; xd [n, nb].
void q8_product(const Path& p, float* out, const int8_t* xq, const float* xd, const int8_t* wq, const float* ws, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 W = j1 - j0, nb = (I + QB - 1) / QB, Ip = nb * QB;
  if ((i64)g_wt.size() < JT * Ip) g_wt.resize((size_t)(JT * Ip));
  if ((i64)g_wsT.size() < nb * JT) g_wsT.resize((size_t)(nb * JT));
  if ((i64)g_isum.size() < RB * nb * JT) g_isum.resize((size_t)(RB * nb * JT));
  float* wsT = g_wsT.data();
  int32_t* isum = g_isum.data();
  int32_t* xs = nullptr;  // block sums of the quantized rows, for a path's fused tile
  if (p.q8_tile) {
    if ((i64)g_xs.size() < n * nb) g_xs.resize((size_t)(n * nb));
    xs = g_xs.data();
    for (i64 i = 0; i < n * nb; i++) {
      int32_t t = 0;
      for (i64 k = 0; k < QB; k++) t += xq[i * QB + k];
      xs[i] = t;
    }
  }
  for (i64 jt = 0; jt < W; jt += JT) {
    const i64 J = W - jt < JT ? W - jt : JT;
    const int8_t* wt = wq + jt * I;
    // The next tile's weight rows (contiguous in [O, I]) asked for while this one computes, when
    // they are at most PF bytes: a decode step streams every weight from DRAM once, and the
    // packing of a tile otherwise waits for its first touch. bench/addon-ab.ts (two builds
    // interleaved in one process, 32 rows): 768-wide inputs (q|k|v, o, up, the LM head) 0.86–0.97×
    // the time; a 3072-wide tile (48 KiB) asked for whole was 1.03–1.09×, its first 16 KiB
    // 0.97–1.05×, so those are left to the hardware. A hint only: same bits.
    const i64 next = (W - jt - JT < JT ? W - jt - JT : JT) * I;
    if (jt + JT < W && next <= PF) {
      const char* nx = reinterpret_cast<const char*>(wq + (jt + JT) * I);
      for (i64 b = 0; b < next; b += 64) __builtin_prefetch(nx + b, 0, 2);
    }
    i64 ldw = I;
    if (J < JT || Ip != I) {
      std::memset(g_wt.data(), 0, (size_t)(JT * Ip));
      for (i64 jj = 0; jj < J; jj++) std::memcpy(g_wt.data() + jj * Ip, wq + (jt + jj) * I, (size_t)I);
      wt = g_wt.data();
      ldw = Ip;
    }
    if (J < JT) std::memset(wsT, 0, (size_t)(nb * JT) * sizeof(float));
    for (i64 jj = 0; jj < J; jj++) {
      const float* src = ws + (jt + jj) * nb;
      for (i64 b = 0; b < nb; b++) wsT[b * JT + jj] = src[b];
    }
    for (i64 r0 = 0; r0 < n; r0 += RB) {
      const i64 R = n - r0 < RB ? n - r0 : RB;
      float s[RB * JT];  // row r, lane jj: weight row jt + jj
      if (p.q8_tile && R >= 4) p.q8_tile(s, xq + r0 * Ip, xd + r0 * nb, xs + r0 * nb, R, wt, ldw, Ip, wsT);
      else {
        p.q8_dots(isum, xq + r0 * Ip, R, wt, ldw, Ip);
        for (i64 r = 0; r < R; r++) p.q8_combine(s + r * JT, isum + r * nb * JT, xd + (r0 + r) * nb, wsT, nb);
      }
      for (i64 r = 0; r < R; r++) {
        float* o = out + (r0 + r) * O + j0 + jt;
        for (i64 jj = 0; jj < J; jj++) o[jj] = bias ? bias[j0 + jt + jj] + s[r * JT + jj] : s[r * JT + jj];
      }
    }
  }
}
}  // namespace

void quantize_rows_q8(const Path& p, int8_t* xq, float* xd, const float* x, i64 n, i64 I) {
  const i64 nb = (I + QB - 1) / QB, Ip = nb * QB;
  const auto qr = p.quantize_row_q8;
  if (Ip == I) { for (i64 r = 0; r < n; r++) qr(xq + r * I, xd + r * nb, x + r * I, I); return; }
  int8_t* row = padded_rows(1, Ip);  // the zero tail must not run into the next row
  for (i64 r = 0; r < n; r++) {
    qr(row, xd + r * nb, x + r * I, I);
    std::memcpy(xq + r * I, row, (size_t)I);
  }
}

void matmul_q8_rows(const Path& p, float* out, const int8_t* xq, const float* xd, const int8_t* wq, const float* ws, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 nb = (I + QB - 1) / QB, Ip = nb * QB;
  if (Ip == I) { q8_product(p, out, xq, xd, wq, ws, bias, n, I, O, j0, j1); return; }
  int8_t* xp = padded_rows(n, Ip);
  for (i64 r = 0; r < n; r++) {
    std::memcpy(xp + r * Ip, xq + r * I, (size_t)I);
    std::memset(xp + r * Ip + I, 0, (size_t)(Ip - I));
  }
  q8_product(p, out, xp, xd, wq, ws, bias, n, I, O, j0, j1);
}

void matmul_q8(const Path& p, float* out, const float* x, const int8_t* wq, const float* ws, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 nb = (I + QB - 1) / QB, Ip = nb * QB;
  if ((i64)g_xd.size() < n * nb) g_xd.resize((size_t)(n * nb));
  int8_t* xq = padded_rows(n, Ip);
  const auto qr = p.quantize_row_q8;
  for (i64 r = 0; r < n; r++) qr(xq + r * Ip, g_xd.data() + r * nb, x + r * I, I);
  q8_product(p, out, xq, g_xd.data(), wq, ws, bias, n, I, O, j0, j1);
}

// A path's matmul16_acc reads the 16-bit weights directly (widened in registers or while packing),
// with matmul_acc's chains. Without one (portable), column blocks of CB columns are widened into
// f32 scratch (≤ 1 MiB) and multiplied by matmul_acc: each out element's chain runs over k in
// order whatever the column blocking, so either way the bits are those of matmul on f32 weights.
void matmul_16(const Path& p, float* out, const float* x, const uint16_t* w, int kind, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 W = j1 - j0;
  i64 CB = ((i64)(1 << 18) / (I > 0 ? I : 1)) & ~(i64)15;
  if (CB < 16) CB = 16;
  if (CB > W) CB = W;
  if ((i64)g_w32.size() < I * CB) g_w32.resize((size_t)(I * CB));
  float* w32 = g_w32.data();
  for (i64 r = 0; r < n; r++) {
    if (bias) std::memcpy(out + r * O + j0, bias + j0, (size_t)W * sizeof(float));
    else std::memset(out + r * O + j0, 0, (size_t)W * sizeof(float));
  }
  if (p.matmul16_acc) { p.matmul16_acc(out + j0, x, w, kind, n, I, W, W, O); return; }
  for (i64 c0 = 0; c0 < W; c0 += CB) {
    const i64 cw = W - c0 < CB ? W - c0 : CB;
    for (i64 k = 0; k < I; k++) p.widen16(w32 + k * cw, w + k * W + c0, cw, kind);
    p.matmul_acc(out + j0 + c0, x, w32, n, I, cw, cw, O);
  }
}

// names.ts embeddingQ8: each element f32(q · d) (the product of an int8 and an f32 is exact
// before its one rounding), then one f32 add of the position row; separate statements and
// -ffp-contract=off keep the add from fusing into an FMA.
void embedding_q8(float* out, const int32_t* tok, const int32_t* pos, const int8_t* wq, const float* ws, const float* wpe, i64 n, i64 C) {
  const i64 nb = (C + 31) / 32;
  for (i64 r = 0; r < n; r++) {
    const int8_t* q = wq + (i64)tok[r] * C;
    const float* d = ws + (i64)tok[r] * nb;
    float* o = out + r * C;
    for (i64 c = 0; c < C; c++) o[c] = (float)q[c] * d[c >> 5];
    if (!wpe) continue;
    const float* p = wpe + (i64)pos[r] * C;
    for (i64 c = 0; c < C; c++) o[c] = o[c] + p[c];
  }
}

}  // namespace pg
