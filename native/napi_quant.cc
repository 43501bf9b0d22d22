// Node-API glue for the quantized-weight ops (names.ts matmulQ8, quantizeRowsQ8, matmulQ8Rows, matmul16, embeddingQ8); registered in napi.cc.
#include <node_api.h>

#include <cstring>

#include "kernels.h"
#include "napi_args.h"

namespace pg {

namespace {
// The weight arguments of both Q8 products: wq [j1-j0, I] int8 at argument i, ws [j1-j0, ceil(I/32)]
// at i + 1, bias | null at i + 2, the optional column range [j0, j1) of O at argument r
struct Q8Weights { int8_t* wq; float* ws; float* bias; i64 j0, j1; };
Q8Weights q8_weights(Args& a, size_t i, size_t r, i64 I, i64 O, const char* F) {
  Q8Weights w{nullptr, nullptr, nullptr, 0, O};
  a.range(r, O, F, "j0, j1", w.j0, w.j1);
  w.wq = a.i8(i, I * (w.j1 - w.j0), F, "wq");
  w.ws = a.f32(i + 1, (I + 31) / 32 * (w.j1 - w.j0), F, "ws");
  w.bias = a.f32_or_null(i + 2, O, F, "bias");
  return w;
}
}  // namespace

// matmulQ8(out, inp, wq, ws, bias | null, n, I, O[, j0, j1])
napi_value js_matmulq8(napi_env env, napi_callback_info info) {
  const char* F = "matmulQ8";
  Args a(env, info, 8, F);
  const i64 n = a.num(5, F, "n"), I = a.num(6, F, "I"), O = a.num(7, F, "O");
  const Q8Weights w = q8_weights(a, 2, 8, I, O, F);
  float* out = a.f32(0, n * O, F, "out");
  float* inp = a.f32(1, n * I, F, "inp");
  if (!a.ok) return nullptr;
  if (n > 0 && w.j1 > w.j0) matmul_q8(path(), out, inp, w.wq, w.ws, w.bias, n, I, O, w.j0, w.j1);
  return nullptr;
}

// quantizeRowsQ8(xq, xd, inp, n, I): xq [n, I] int8, xd [n, ceil(I/32)] ← the rows of inp [n, I]
napi_value js_quantizerowsq8(napi_env env, napi_callback_info info) {
  const char* F = "quantizeRowsQ8";
  Args a(env, info, 5, F);
  const i64 n = a.num(3, F, "n"), I = a.num(4, F, "I");
  int8_t* xq = a.i8(0, n * I, F, "xq");
  float* xd = a.f32(1, n * ((I + 31) / 32), F, "xd");
  float* inp = a.f32(2, n * I, F, "inp");
  if (!a.ok) return nullptr;
  if (n > 0 && I > 0) quantize_rows_q8(path(), xq, xd, inp, n, I);
  return nullptr;
}

// matmulQ8Rows(out, xq, xd, wq, ws, bias | null, n, I, O[, j0, j1]): matmulQ8 on rows from quantizeRowsQ8
napi_value js_matmulq8rows(napi_env env, napi_callback_info info) {
  const char* F = "matmulQ8Rows";
  Args a(env, info, 9, F);
  const i64 n = a.num(6, F, "n"), I = a.num(7, F, "I"), O = a.num(8, F, "O");
  const Q8Weights w = q8_weights(a, 3, 9, I, O, F);
  float* out = a.f32(0, n * O, F, "out");
  int8_t* xq = a.i8(1, n * I, F, "xq");
  float* xd = a.f32(2, n * ((I + 31) / 32), F, "xd");
  if (!a.ok) return nullptr;
  if (n > 0 && w.j1 > w.j0) matmul_q8_rows(path(), out, xq, xd, w.wq, w.ws, w.bias, n, I, O, w.j0, w.j1);
  return nullptr;
}

// matmul16(out, inp, w, kind: "bf16" | "f16", bias | null, n, I, O[, j0, j1]); w [I, j1-j0] 16-bit
napi_value js_matmul16(napi_env env, napi_callback_info info) {
  const char* F = "matmul16";
  Args a(env, info, 8, F);
  const i64 n = a.num(5, F, "n"), I = a.num(6, F, "I"), O = a.num(7, F, "O");
  i64 j0 = 0, j1 = O;
  a.range(8, O, F, "j0, j1", j0, j1);
  const int k = a.kind16(3, F);
  float* out = a.f32(0, n * O, F, "out");
  float* inp = a.f32(1, n * I, F, "inp");
  uint16_t* w = a.u16(2, I * (j1 - j0), F, "w");
  float* b = a.f32_or_null(4, O, F, "bias");
  if (!a.ok) return nullptr;
  if (n > 0 && j1 > j0) matmul_16(path(), out, inp, w, k, b, n, I, O, j0, j1);
  return nullptr;
}

// embeddingQ8(out, tokens, positions, wq, ws, wpe | null, n, C); wq [V, C] int8, ws [V, ceil(C/32)]
napi_value js_embeddingq8(napi_env env, napi_callback_info info) {
  const char* F = "embeddingQ8";
  Args a(env, info, 8, F);
  const i64 n = a.num(6, F, "n"), C = a.num(7, F, "C");
  float* out = a.f32(0, n * C, F, "out");
  int32_t* tok = a.i32(1, n, F, "tokens");
  int32_t* pos = a.i32(2, n, F, "positions");
  int8_t* wq = a.i8(3, 0, F, "wq");
  float* ws = a.f32(4, 0, F, "ws");
  float* wpe = a.f32_or_null(5, 0, F, "wpe");
  if (!a.ok) return nullptr;
  const i64 V = C > 0 ? a.len(3) / C : 0, P = wpe ? (C > 0 ? a.len(5) / C : 0) : -1;
  if (C > 0 && a.len(4) < V * ((C + 31) / 32)) { a.fail(F, "ws is shorter than wq's rows need"); return nullptr; }
  if (C > 0 && !a.lookups_in_range(F, tok, pos, n, V, P)) return nullptr;  // C = 0: nothing is read
  embedding_q8(out, tok, pos, wq, ws, wpe, n, C);
  return nullptr;
}

// firstNonFinite(a, from, to): index of the first NaN / ±inf in a[from, to), else -1 (load time)
napi_value js_firstnonfinite(napi_env env, napi_callback_info info) {
  const char* F = "firstNonFinite";
  Args a(env, info, 3, F);
  const i64 from = a.num(1, F, "from"), to = a.num(2, F, "to");
  float* arr = a.f32(0, to, F, "a");
  if (a.ok && from > to) a.fail(F, "from must not exceed to");
  if (!a.ok) return nullptr;
  const i64 k = first_non_finite(arr + from, to - from);
  napi_value r;
  napi_create_double(env, (double)(k < 0 ? -1 : from + k), &r);
  return r;
}

// transposeInto(dst, src, out, inp, O, col): dst [inp, O] columns [col, col + out) ← src [out, inp]ᵀ (load
// time); transpose16Into the same on 16-bit values (Uint16Array)
template <bool k16>
napi_value transpose_js(napi_env env, napi_callback_info info) {
  const char* F = k16 ? "transpose16Into" : "transposeInto";
  Args a(env, info, 6, F);
  const i64 out = a.num(2, F, "out"), inp = a.num(3, F, "inp"), O = a.num(4, F, "O"), col = a.num(5, F, "col");
  if (a.ok && (col < 0 || col + out > O)) a.fail(F, "columns [col, col + out) must lie within [0, O)");
  if constexpr (k16) {
    uint16_t* dst = a.u16(0, inp * O, F, "dst");
    uint16_t* src = a.u16(1, out * inp, F, "src");
    if (a.ok && out > 0 && inp > 0) transpose_into(dst, src, out, inp, O, col);
  } else {
    float* dst = a.f32(0, inp * O, F, "dst");
    float* src = a.f32(1, out * inp, F, "src");
    if (a.ok && out > 0 && inp > 0) transpose_into(dst, src, out, inp, O, col);
  }
  return nullptr;
}
napi_value js_transposeinto(napi_env env, napi_callback_info info) { return transpose_js<false>(env, info); }
napi_value js_transpose16into(napi_env env, napi_callback_info info) { return transpose_js<true>(env, info); }

// firstNonFinite16(a, kind): index of the first inf / NaN among the 16-bit values ("bf16" | "f16"), else -1 (load time)
napi_value js_firstnonfinite16(napi_env env, napi_callback_info info) {
  const char* F = "firstNonFinite16";
  Args a(env, info, 2, F);
  const int k = a.kind16(1, F);
  uint16_t* arr = a.ok ? a.u16(0, 0, F, "a") : nullptr;
  if (!a.ok) return nullptr;
  napi_value r;
  napi_create_double(env, (double)first_non_finite16(arr, a.len(0), k), &r);
  return r;
}

// quantizeRowsQ8From(wq, ws, src, kind, I, O): wq [O, I] int8, ws [O, ceil(I/32)] ← the rows of src [O, I]
// (Float32Array with kind "f32", else Uint16Array "bf16" | "f16", widened exactly); returns the index of
// the first NaN / ±inf in src, else -1 (load time)
napi_value js_quantizerowsq8from(napi_env env, napi_callback_info info) {
  const char* F = "quantizeRowsQ8From";
  Args a(env, info, 6, F);
  const i64 I = a.num(4, F, "I"), O = a.num(5, F, "O");
  const int k = a.src_kind(3, F);
  int8_t* wq = a.i8(0, O * I, F, "wq");
  float* ws = a.f32(1, (I + 31) / 32 * O, F, "ws");
  const void* src = a.ok ? a.values(2, k, I * O, F, "src") : nullptr;
  if (!a.ok) return nullptr;
  const i64 bad = I > 0 && O > 0 ? quantize_rows_q8_from(path(), wq, ws, src, k, I, O) : -1;
  napi_value r;
  napi_create_double(env, (double)bad, &r);
  return r;
}

// quantizeColsBandQ8(wq, ws, src, kind, I, O, i0): rows [i0, i0 + R) of a linear [I, O] (R = src.length / O;
// src as quantizeRowsQ8From's; i0 a multiple of 32) into wq [O, I], ws [O, ceil(I/32)]; returns the index
// in src of the first NaN / ±inf, else -1 (load time)
napi_value js_quantizecolsbandq8(napi_env env, napi_callback_info info) {
  const char* F = "quantizeColsBandQ8";
  Args a(env, info, 7, F);
  const i64 I = a.num(4, F, "I"), O = a.num(5, F, "O"), i0 = a.num(6, F, "i0");
  const int k = a.src_kind(3, F);
  const i64 len = a.ok ? a.len(2) : 0, R = O > 0 ? len / O : 0;
  if (a.ok && (O <= 0 || len % O != 0 || i0 < 0 || i0 % 32 != 0 || i0 + R > I)) a.fail(F, "src must be whole rows [R, O] of rows [i0, i0 + R) within [0, I), i0 a multiple of 32");
  int8_t* wq = a.i8(0, O * I, F, "wq");
  float* ws = a.f32(1, (I + 31) / 32 * O, F, "ws");
  const void* src = a.ok ? a.values(2, k, len, F, "src") : nullptr;
  if (!a.ok) return nullptr;
  const i64 bad = R > 0 ? quantize_cols_band_q8(path(), wq, ws, src, k, I, O, i0, R) : -1;
  napi_value r;
  napi_create_double(env, (double)bad, &r);
  return r;
}

// The 16-bit ⇄ f32 conversions at load, one argument shape (dst, src, kind: "bf16" | "f16", len):
//   widen16:  dst f32 [len] = the exact f32 of src 16-bit [len]
//   narrow16: dst 16-bit [len] = src f32 [len] rounded to nearest even, as kernels/f16.ts toBf16 / toF16
template <bool kNarrow>
napi_value convert16(napi_env env, napi_callback_info info) {
  const char* F = kNarrow ? "narrow16" : "widen16";
  Args a(env, info, 4, F);
  const i64 n = a.num(3, F, "len");
  const int k = a.kind16(2, F);
  if constexpr (kNarrow) {
    uint16_t* dst = a.u16(0, n, F, "dst");
    float* src = a.f32(1, n, F, "src");
    if (a.ok) narrow_16(path(), dst, src, n, k);
  } else {
    float* dst = a.f32(0, n, F, "dst");
    uint16_t* src = a.u16(1, n, F, "src");
    if (a.ok && n > 0) path().widen16(dst, src, n, k);
  }
  return nullptr;
}

napi_value js_widen16(napi_env env, napi_callback_info info) { return convert16<false>(env, info); }
napi_value js_narrow16(napi_env env, napi_callback_info info) { return convert16<true>(env, info); }

}  // namespace pg
