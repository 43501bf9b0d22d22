// Ops with one implementation on every path (no reduction, or a reduction cheap next to the
// matmuls: the compiler vectorizes them as it can), and the portable Path: plain C++ with a fixed
// reduction order per row (see kernels.h).
#include <cmath>
#include <cstring>

#include "f16.h"
#include "kernels.h"

namespace pg {

void embedding(float* out, const int32_t* tok, const int32_t* pos, const float* wte, const float* wpe, i64 n, i64 C) {
  for (i64 r = 0; r < n; r++) {
    const float* __restrict a = wte + (i64)tok[r] * C;
    float* __restrict o = out + r * C;
    if (!wpe) { std::memcpy(o, a, (size_t)C * sizeof(float)); continue; }  // no learned positions (Llama)
    const float* __restrict b = wpe + (i64)pos[r] * C;
    for (i64 c = 0; c < C; c++) o[c] = a[c] + b[c];
  }
}

void residual(float* out, const float* a, const float* b, i64 len) {
  // out may alias a: element i reads a[i], b[i] before writing out[i]; no restrict.
  for (i64 i = 0; i < len; i++) out[i] = a[i] + b[i];
}

// channels [c0, c1) of each row's k and v; a qkv row is [qDim | kvDim k | kvDim v], a cache row kvDim
void kvwrite(const float* qkv, float* kc, float* vc, const int32_t* slots, i64 n, i64 qDim, i64 kvDim, i64 c0, i64 c1) {
  const size_t bytes = (size_t)(c1 - c0) * sizeof(float);
  const i64 W = qDim + 2 * kvDim;
  for (i64 r = 0; r < n; r++) {
    std::memcpy(kc + (i64)slots[r] * kvDim + c0, qkv + r * W + qDim + c0, bytes);
    std::memcpy(vc + (i64)slots[r] * kvDim + c0, qkv + r * W + qDim + kvDim + c0, bytes);
  }
}

namespace {

// out [n, O] with row stride ldo ≥ O (a column range of a wider matrix), w [I, O] with row stride ldw
void matmul_acc(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo) {
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

// a KV cache element as f32: itself (q8 values arrive as f32(q·d): KvQ8's []), or f16 bits widened exactly
inline float widen(float x) { return x; }
inline float widen(uint16_t h) { return f16_to_f32(h); }

// 8 lanes (lane l sums c ≡ l mod 8 in order), then the hsum8 tree of the AVX2 path
template <typename P>  // const float*, const uint16_t* (f16 bits) or KvQ8
inline float dot8(const float* __restrict a, P b, i64 C) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 c = 0;
  for (; c + 8 <= C; c += 8)
    for (int l = 0; l < 8; l++) acc[l] = acc[l] + a[c + l] * widen(b[c + l]);
  for (int l = 0; c + l < C; l++) acc[l] = acc[l] + a[c + l] * widen(b[c + l]);
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

void lmhead(float* out, const float* x, const float* wte, i64 m, i64 C, i64 V, i64 ldo) {
  const i64 RB = 32;  // x rows per block: each wte row is read once per block
  for (i64 r0 = 0; r0 < m; r0 += RB) {
    const i64 r1 = r0 + RB < m ? r0 + RB : m;
    for (i64 v = 0; v < V; v++)
      for (i64 r = r0; r < r1; r++) out[r * ldo + v] = dot8(x + r * C, wte + v * C, C);
  }
}

void gelu(float* out, const float* inp, i64 len) {
  const float S = 0.7978845608028654f;
  for (i64 i = 0; i < len; i++) {
    const float x = inp[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(S * (x + 0.044715f * x * x * x)));
  }
}

// e^-|g| ≤ 1 never overflows, so a large |g| gives g (g > 0) or a tiny negative (g < 0), never NaN
void swiglu(float* o, const float* g, const float* u, i64 len) {
  for (i64 j = 0; j < len; j++) {
    const float x = g[j], e = std::exp(-std::fabs(x));
    o[j] = ((x >= 0.0f ? x : x * e) / (1.0f + e)) * u[j];
  }
}

void scale_mul(float* o, const float* x, const float* w, double s, i64 len) {
  for (i64 c = 0; c < len; c++) o[c] = w[c] * (float)((double)x[c] * s);
}

void rotate_half(float* x, const float* cos, const float* sin, i64 half) {
  float* __restrict a = x;
  float* __restrict b = x + half;
  for (i64 i = 0; i < half; i++) {
    const float xa = a[i], xb = b[i];
    a[i] = xa * cos[i] - xb * sin[i];
    b[i] = xb * cos[i] + xa * sin[i];
  }
}

// log-softmax: max, Σ exp in f64 (expf per element), out = x - lse.
void logsoftmax_row(float* o, const float* x, i64 V) {
  float mx = -INFINITY;
  for (i64 v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
  double s0 = 0, s1 = 0;
  i64 v = 0;
  for (; v + 2 <= V; v += 2) { s0 += std::exp((double)(x[v] - mx)); s1 += std::exp((double)(x[v + 1] - mx)); }
  for (; v < V; v++) s0 += std::exp((double)(x[v] - mx));
  const double lse = (double)mx + std::log(s0 + s1);
  for (v = 0; v < V; v++) o[v] = (float)((double)x[v] - lse);
}

// rowArgmax, the definition: best = x[0], then every later value that is strictly greater (so
// the first index of the largest value; NaN is never greater, and a leading NaN is never beaten).
void argmax_row(const float* x, i64 V, int32_t* idx, float* mx) {
  float best = x[0];
  int32_t at = 0;
  for (i64 i = 1; i < V; i++) if (x[i] > best) { best = x[i]; at = (int32_t)i; }
  *idx = at;
  *mx = best;
}

template <typename P>
void attn_scores(float* sc, const float* q, P k, const i64* off, i64 T, i64 D, float scale) {
  for (i64 t = 0; t < T; t++) sc[t] = dot8(q, k + off[t], D) * scale;
}

void softmax(float* sc, i64 T) {
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

template <typename P>
void attn_values(float* o, P v, const i64* off, const float* p, i64 T, i64 D) {
  for (i64 t = 0; t < T; t++) {
    const float pt = p[t];
    const P vt = v + off[t];
    for (i64 d = 0; d < D; d++) o[d] = o[d] + pt * widen(vt[d]);
  }
}

void narrow16(uint16_t* dst, const float* src, i64 len) {
  for (i64 i = 0; i < len; i++) dst[i] = f32_to_f16(src[i]);
}

void layernorm_row(float* o, const float* x, const float* w, const float* b, i64 C, double eps) { layernorm_row_body(o, x, w, b, C, eps); }

}  // namespace

const Path kPortablePath = {
    "portable", matmul_acc, lmhead, gelu, swiglu, scale_mul, rotate_half, logsoftmax_row, argmax_row,
    attn_scores<const float*>, softmax, attn_values<const float*>, q8_dots_portable, q8_combine_portable, widen16_portable, nullptr,
    quantize_row_q8, attn_scores<const uint16_t*>, attn_values<const uint16_t*>, attn_scores<KvQ8>, attn_values<KvQ8>, narrow16,
    nullptr, layernorm_row,
};

}  // namespace pg
