// Drivers: the loops over rows and heads of matmul, rmsnorm, swiglu, rope and attention. They
// hold no ISA-specific arithmetic; each calls the inner kernels of the Path it is given, so every
// path shares the same indexing, windows and head ranges.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace pg {

// columns [j0, j1) of out [n, O] = x · w + bias; w is the contiguous column shard [I, j1 - j0]
// (all of w [I, O] when the range is everything); bias null: none (each chain starts from 0)
void matmul(const Path& p, float* out, const float* x, const float* w, const float* bias, i64 n, i64 I, i64 O, i64 j0, i64 j1) {
  const i64 W = j1 - j0;
  for (i64 r = 0; r < n; r++) {
    if (bias) std::memcpy(out + r * O + j0, bias + j0, (size_t)W * sizeof(float));
    else std::memset(out + r * O + j0, 0, (size_t)W * sizeof(float));
  }
  p.matmul_acc(out + j0, x, w, n, I, W, W, O);
}

namespace {
// Σ x² in f64 as 8 interleaved partial sums (lane l: c ≡ l mod 8, increasing c), combined by one
// tree: reference/rmsnorm.ts sumSquares8, the same on every path. The lanes are independent
// chains (the compiler keeps their order: no -ffast-math), where one accumulator in index order
// was C dependent adds, ~1 µs a 768-wide row.
double sum_squares(const float* x, i64 C) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 c = 0;
  for (; c + 8 <= C; c += 8)
    for (int l = 0; l < 8; l++) {
      const double v = x[c + l];
      s[l] += v * v;
    }
  for (int l = 0; c < C; c++, l++) {
    const double v = x[c];
    s[l] += v * v;
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
inline double rms_scale(const float* x, i64 C, double eps) { return 1.0 / std::sqrt(sum_squares(x, C) / (double)C + eps); }
}  // namespace

void rmsnorm(const Path& p, float* out, const float* inp, const float* w, i64 n, i64 C, double eps) {
  for (i64 r = 0; r < n; r++) p.scale_mul(out + r * C, inp + r * C, w, rms_scale(inp + r * C, C, eps), C);
}

// out [n, I] columns [j0, j1) from gu [n, 2I] = gate | up
void swiglu(const Path& p, float* out, const float* gu, i64 n, i64 I, i64 j0, i64 j1) {
  for (i64 r = 0; r < n; r++) p.swiglu(out + r * I + j0, gu + r * 2 * I + j0, gu + r * 2 * I + I + j0, j1 - j0);
}

void rope(const Path& p, const RopeArgs& a) {
  const i64 D = a.D, half = D / 2, W = (a.nHead + 2 * a.nKv) * D, G = a.nHead / a.nKv;
  auto head = [&](float* x, const float* nw, const float* cs, const float* sn) {
    if (nw) p.scale_mul(x, x, nw, rms_scale(x, D, a.eps), D);  // Qwen3 q_norm / k_norm, before rotating
    p.rotate_half(x, cs, sn, half);
  };
  for (i64 r = 0; r < a.n; r++) {
    const i64 pos = a.pos[r];
    const float* cs = a.cos + pos * half;
    const float* sn = a.sin + pos * half;
    float* row = a.qkv + r * W;
    for (i64 h = a.h0; h < a.h1; h++) head(row + h * D, a.qn, cs, sn);
    for (i64 h = a.h0 / G; h < (a.h1 + G - 1) / G; h++) head(row + (a.nHead + h) * D, a.kn, cs, sn);  // every k head a query head of [h0, h1) reads
  }
}

namespace {
thread_local std::vector<i64> g_slots;
thread_local std::vector<float> g_scores;
// Keys per block: every query head of the call takes its turn over a block of TB cache rows while
// the block is in L1/L2 (a row holds all KV heads side by side, so the heads of [h0, h1) read one
// contiguous stretch of it), instead of each head streaming all T rows from memory on its own.
constexpr i64 TB = 64;

// A Path's attention inner loops for one cache type: P = const float*, const uint16_t* (f16 bits)
// or KvQ8, each indexed in channels (cache row offsets off[t] = slot·KV)
template <typename P>
struct AttnInner {
  void (*scores)(float* sc, const float* q, P k, const i64* off, i64 T, i64 D, float scale);
  void (*values)(float* o, P v, const i64* off, const float* p, i64 T, i64 D);
};

// Asks for the bytes of KV heads [g0, g1) of cache rows off[0, len) ahead of their use. A decode
// step's K/V rows come from DRAM (each sequence has its own blocks), and the kernels' per-head
// strided reads leave the hardware prefetchers little to follow: asking for a whole block at once
// (attend: K block 0 as a row starts, each next block as one starts, V's first with K's last)
// measured 15.6 → 11.3 ms for a GPT-2-small decode step's attention (32 rows, T = 64, 12 layers,
// f16 cache). Per head, interleaved with the kernels, measured slower than the plain loop. A hint
// only: no value changes.
inline const char* addr(const float* p) { return reinterpret_cast<const char*>(p); }
inline const char* addr(const uint16_t* p) { return reinterpret_cast<const char*>(p); }
inline const char* addr(KvQ8 p) { return reinterpret_cast<const char*>(p.block()); }
template <typename P>
inline void prefetch_rows(P base, const i64* off, i64 len, i64 g0, i64 g1, i64 D) {
  const i64 bytes = addr(base + g1 * D) - addr(base + g0 * D);  // KV heads [g0, g1) of one row
  for (i64 i = 0; i < len; i++) {
    const char* row = addr(base + off[i] + g0 * D);
    for (i64 b = 0; b < bytes; b += 64) __builtin_prefetch(row + b, 0, 2);
  }
}

// Row r (sequence s, position P) attends to positions t0..P of s (t0 = P - window + 1 with a
// window, else 0); query head h reads KV head h / G. qkv rows are [NH·D q | NKV·D k | NKV·D v],
// cache rows NKV·D, out rows NH·D. Scores live in thread-local rows [h1 - h0, T] (the caller's
// scratch holds one head's row only). Blocking over t and the order of heads within a block change
// no bits (Path: attn_scores per t, attn_values accumulating in t order, blocks in t order).
template <typename Ptr>
void attend(const Path& p, const AttnArgs& a, Ptr kc, Ptr vc, AttnInner<Ptr> in) {
  const i64 D = a.D, KV = a.nKv * D, W = (a.nHead + 2 * a.nKv) * D, QO = a.nHead * D, G = a.nHead / a.nKv;
  const i64 H = a.h1 - a.h0;
  const float scale = (float)(1.0 / std::sqrt((double)D));
  for (i64 r = 0; r < a.n; r++) {
    const i64 s = a.seq[r], P = a.pos[r];
    const i64 t0 = a.window > 0 && P - a.window + 1 > 0 ? P - a.window + 1 : 0, T = P + 1 - t0;
    if ((i64)g_slots.size() < T) g_slots.resize((size_t)T);
    if ((i64)g_scores.size() < H * T) g_scores.resize((size_t)(H * T));
    i64* off = g_slots.data();  // cache row offset of each attended position
    for (i64 i = 0; i < T; i++) {
      const i64 t = t0 + i;
      off[i] = ((i64)a.table[s * a.maxB + t / a.bs] * a.bs + t % a.bs) * KV;
    }
    float* sc = g_scores.data();  // head h's scores: sc + (h - h0)·T
    const float* q = a.qkv + r * W;
    float* o = a.out + r * QO;
    const i64 g0 = a.h0 / G, g1 = (a.h1 + G - 1) / G;
    prefetch_rows(kc, off, T < TB ? T : TB, g0, g1, D);
    for (i64 tb = 0; tb < T; tb += TB) {
      const i64 len = T - tb < TB ? T - tb : TB;
      if (tb + TB < T) prefetch_rows(kc, off + tb + TB, T - tb - TB < TB ? T - tb - TB : TB, g0, g1, D);
      else prefetch_rows(vc, off, T < TB ? T : TB, g0, g1, D);
      for (i64 h = a.h0; h < a.h1; h++) in.scores(sc + (h - a.h0) * T + tb, q + h * D, kc + (h / G) * D, off + tb, len, D, scale);
    }
    for (i64 h = a.h0; h < a.h1; h++) {
      p.softmax(sc + (h - a.h0) * T, T);
      std::memset(o + h * D, 0, (size_t)D * sizeof(float));
    }
    for (i64 tb = 0; tb < T; tb += TB) {
      const i64 len = T - tb < TB ? T - tb : TB;
      if (tb + TB < T) prefetch_rows(vc, off + tb + TB, T - tb - TB < TB ? T - tb - TB : TB, g0, g1, D);
      for (i64 h = a.h0; h < a.h1; h++) in.values(o + h * D, vc + (h / G) * D, off + tb, sc + (h - a.h0) * T + tb, len, D);
    }
  }
}
}  // namespace

void attention(const Path& p, const AttnArgs& a) {
  using F16 = const uint16_t*;
  if (a.kv == KvKind::f16) attend(p, a, (F16)a.kc, (F16)a.vc, AttnInner<F16>{p.attn_scores16, p.attn_values16});
  else if (a.kv == KvKind::q8) {
    const KvQ8 kc{(const uint8_t*)a.kc, 0}, vc{(const uint8_t*)a.vc, 0};
    attend(p, a, kc, vc, AttnInner<KvQ8>{p.attn_scores8, p.attn_values8});
  } else attend(p, a, (const float*)a.kc, (const float*)a.vc, AttnInner<const float*>{p.attn_scores, p.attn_values});
}

void kvwrite8(const Path& p, const float* qkv, uint8_t* kc, uint8_t* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1) {
  const i64 W = qDim + 2 * kvDim, rb = kvDim / 32 * KvQ8::kBlockBytes;
  const auto qr = p.quantize_row_q8;
  auto put = [&](uint8_t* blk, const float* x) { qr(reinterpret_cast<int8_t*>(blk + 4), reinterpret_cast<float*>(blk), x, 32); };
  for (i64 r = 0; r < n; r++)
    for (i64 c = c0; c < c1; c += 32) {
      const i64 at = (i64)slots[r] * rb + c / 32 * KvQ8::kBlockBytes;
      put(kc + at, qkv + r * W + qDim + c);
      put(vc + at, qkv + r * W + qDim + kvDim + c);
    }
}

// channels [c0, c1) of each row's k and v, rounded to f16; a qkv row is [qDim | kvDim k | kvDim v]
void kvwrite16(const Path& p, const float* qkv, uint16_t* kc, uint16_t* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1) {
  const i64 W = qDim + 2 * kvDim;
  for (i64 r = 0; r < n; r++) {
    p.narrow16(kc + (i64)slots[r] * kvDim + c0, qkv + r * W + qDim + c0, c1 - c0);
    p.narrow16(vc + (i64)slots[r] * kvDim + c0, qkv + r * W + qDim + kvDim + c0, c1 - c0);
  }
}

}  // namespace pg
