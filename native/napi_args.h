// Node-API argument checking for napi.cc. Arguments are typed-array views (ordinary or
// SharedArrayBuffer-backed); the kernels work on their memory directly. Sizes are checked so a bad
// call throws a TypeError naming the function and argument, never crashes.
#pragma once

#include <node_api.h>

#include <cstdio>
#include <cstring>

#include "kernels.h"

namespace pg {

struct Args {
  napi_env env;
  napi_value v[20];
  size_t argc = 20;
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
      const char* tn = want == napi_float32_array ? "Float32Array" : want == napi_int32_array ? "Int32Array" : want == napi_int8_array ? "Int8Array" : "Uint16Array";
      std::snprintf(msg, sizeof msg, "%s must be a %s", name, tn);
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
  int8_t* i8(size_t i, i64 need, const char* fn, const char* name) { return arr<int8_t>(i, napi_int8_array, need, fn, name); }
  uint16_t* u16(size_t i, i64 need, const char* fn, const char* name) { return arr<uint16_t>(i, napi_uint16_array, need, fn, name); }
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
  // argument i given and not undefined (an optional trailing argument)
  bool has(size_t i) {
    if (!ok || argc <= i) return false;
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t != napi_undefined;
  }
  // optional [lo, hi) at arguments i, i + 1 (absent or undefined: [0, max)); needs lo ≤ hi ≤ max
  void range(size_t i, i64 max, const char* fn, const char* name, i64& lo, i64& hi) {
    if (!has(i)) return;
    lo = num(i, fn, name);
    hi = num(i + 1, fn, name);
    if (ok && (lo > hi || hi > max)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "%s must satisfy 0 <= lo <= hi <= %lld, got %lld, %lld", name, (long long)max, (long long)lo, (long long)hi);
      fail(fn, msg);
    }
  }
  // optional W, j0, j1 at arguments i..i+2 of an elementwise op over len values: len / W rows of W,
  // columns [j0, j1) of each (absent or undefined: one row of len, every column)
  void cols(size_t i, i64 len, const char* fn, i64& W, i64& j0, i64& j1) {
    W = len, j0 = 0, j1 = len;
    if (!has(i)) return;
    W = num(i, fn, "W");
    if (ok && (W == 0 ? len != 0 : len % W != 0)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "W must divide len into whole rows, got W = %lld, len = %lld", (long long)W, (long long)len);
      fail(fn, msg);
    }
    j1 = W;
    range(i + 1, W, fn, "j0, j1", j0, j1);
  }
  // a 16-bit weight kind at argument i: "bf16" → 0, "f16" → 1; else fails naming fn (and gives -1)
  int kind16(size_t i, const char* fn) { return kind_of(i, fn, false); }
  // a checkpoint value kind at argument i: "f32" → -1, else as kind16 (on failure: -2)
  int src_kind(size_t i, const char* fn) { return kind_of(i, fn, true); }
  int kind_of(size_t i, const char* fn, bool f32) {
    const int none = f32 ? -2 : -1;
    if (!ok) return none;
    char kind[8] = {0};
    size_t got = 0;
    if (napi_get_value_string_utf8(env, v[i], kind, sizeof kind, &got) != napi_ok) { fail(fn, "kind must be a string"); return none; }
    if (f32 && std::strcmp(kind, "f32") == 0) return -1;
    const int k = std::strcmp(kind, "bf16") == 0 ? 0 : std::strcmp(kind, "f16") == 0 ? 1 : none;
    if (k == none) fail(fn, f32 ? "kind must be \"f32\", \"bf16\" or \"f16\"" : "kind must be \"bf16\" or \"f16\"");
    return k;
  }
  // argument i as the values of that kind: a Float32Array (kind -1) or a Uint16Array, `need` elements
  const void* values(size_t i, int kind, i64 need, const char* fn, const char* name) {
    return kind == -1 ? (const void*)f32(i, need, fn, name) : (const void*)u16(i, need, fn, name);
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
  // an embedding's lookups: every tokens[r] a row of a V-row table, every positions[r] a row of the
  // P-row position table (P < 0: none); else fails naming fn
  bool lookups_in_range(const char* fn, const int32_t* tok, const int32_t* pos, i64 n, i64 V, i64 P) {
    for (i64 r = 0; r < n; r++)
      if (tok[r] < 0 || tok[r] >= V || (P >= 0 && (pos[r] < 0 || pos[r] >= P))) {
        fail(fn, "token or position out of range");
        return false;
      }
    return true;
  }
  // elements of the typed array at argument i (call after it was checked)
  i64 len(size_t i) {
    size_t l = 0;
    napi_get_typedarray_info(env, v[i], nullptr, &l, nullptr, nullptr, nullptr);
    return (i64)l;
  }
  bool absent(size_t i) {
    if (argc <= i) return true;
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  // whether argument i is a typed array of this type (a KV cache's element type; the caller checks the rest)
  bool is_typed(size_t i, napi_typedarray_type want) {
    bool is = false;
    if (argc <= i) return false;
    napi_is_typedarray(env, v[i], &is);
    if (!is) return false;
    napi_typedarray_type type;
    napi_get_typedarray_info(env, v[i], &type, nullptr, nullptr, nullptr, nullptr);
    return type == want;
  }
  bool is_u16(size_t i) { return is_typed(i, napi_uint16_array); }
  bool is_i8(size_t i) { return is_typed(i, napi_int8_array); }
  // a Float32Array, or null/undefined (returns nullptr, ok stays true)
  float* f32_or_null(size_t i, i64 need, const char* fn, const char* name) { return absent(i) ? nullptr : f32(i, need, fn, name); }
};

// napi_quant.cc
napi_value js_matmulq8(napi_env env, napi_callback_info info);
napi_value js_quantizerowsq8(napi_env env, napi_callback_info info);
napi_value js_matmulq8rows(napi_env env, napi_callback_info info);
napi_value js_matmul16(napi_env env, napi_callback_info info);
napi_value js_quantizerowsq8from(napi_env env, napi_callback_info info);
napi_value js_quantizecolsbandq8(napi_env env, napi_callback_info info);
napi_value js_transpose16into(napi_env env, napi_callback_info info);
napi_value js_firstnonfinite16(napi_env env, napi_callback_info info);
napi_value js_widen16(napi_env env, napi_callback_info info);
napi_value js_narrow16(napi_env env, napi_callback_info info);
napi_value js_embeddingq8(napi_env env, napi_callback_info info);
napi_value js_transposeinto(napi_env env, napi_callback_info info);
napi_value js_firstnonfinite(napi_env env, napi_callback_info info);

}  // namespace pg
