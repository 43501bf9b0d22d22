// Node-API glue: one function per KernelSet op (src/kernels/native/addon.ts types them), each
// checking its arguments (napi_args.h) and calling one driver on this thread's Path (dispatch.cc).
#include <node_api.h>

#include <cstdint>
#include <cstring>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "kernels.h"
#include "napi_args.h"

namespace pg {
namespace {

// embedding(out, tokens, positions, wte, wpe | null, n, C)
napi_value js_embedding(napi_env env, napi_callback_info info) {
  const char* F = "embedding";
  Args a(env, info, 7, F);
  const i64 n = a.num(5, F, "n"), C = a.num(6, F, "C");
  float* out = a.f32(0, n * C, F, "out");
  int32_t* tok = a.i32(1, n, F, "tokens");
  int32_t* pos = a.i32(2, n, F, "positions");
  float* wte = a.f32(3, 0, F, "wte");
  float* wpe = a.f32_or_null(4, 0, F, "wpe");
  if (!a.ok) return nullptr;
  const i64 V = C > 0 ? a.len(3) / C : 0, P = wpe ? (C > 0 ? a.len(4) / C : 0) : -1;
  if (C > 0 && !a.lookups_in_range(F, tok, pos, n, V, P)) return nullptr;  // C = 0: nothing is read
  embedding(out, tok, pos, wte, wpe, n, C);
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
  const Path& p = path();
  for (i64 r = 0; r < n; r++) p.layernorm_row(out + r * C, inp + r * C, w, b, C, eps);
  return nullptr;
}

// rmsnorm(out, inp, w, n, C, eps)
napi_value js_rmsnorm(napi_env env, napi_callback_info info) {
  const char* F = "rmsnorm";
  Args a(env, info, 6, F);
  const i64 n = a.num(3, F, "n"), C = a.num(4, F, "C");
  const double eps = a.dbl(5, F, "eps");
  float* out = a.f32(0, n * C, F, "out");
  float* inp = a.f32(1, n * C, F, "inp");
  float* w = a.f32(2, C, F, "w");
  if (!a.ok) return nullptr;
  rmsnorm(path(), out, inp, w, n, C, eps);
  return nullptr;
}

// matmul(out, inp, w, bias | null, n, I, O[, j0, j1]); with a range, w is the column shard [I, j1 - j0]
napi_value js_matmul(napi_env env, napi_callback_info info) {
  const char* F = "matmul";
  Args a(env, info, 7, F);
  const i64 n = a.num(4, F, "n"), I = a.num(5, F, "I"), O = a.num(6, F, "O");
  i64 j0 = 0, j1 = O;
  a.range(7, O, F, "j0, j1", j0, j1);
  float* out = a.f32(0, n * O, F, "out");
  float* inp = a.f32(1, n * I, F, "inp");
  float* w = a.f32(2, I * (j1 - j0), F, "w");
  float* b = a.f32_or_null(3, O, F, "bias");
  if (!a.ok) return nullptr;
  if (n > 0 && j1 > j0) matmul(path(), out, inp, w, b, n, I, O, j0, j1);
  return nullptr;
}

// f over the spans [j0, j1) of each row of W in len values: one span when the columns are whole rows
template <typename F>
void each_span(i64 len, i64 W, i64 j0, i64 j1, F f) {
  if (j0 == 0 && j1 == W) { f(0, len); return; }
  for (i64 r = 0; r + W <= len && j1 > j0; r += W) f(r + j0, j1 - j0);
}

// gelu(out, inp, len[, W, j0, j1])
napi_value js_gelu(napi_env env, napi_callback_info info) {
  const char* F = "gelu";
  Args a(env, info, 3, F);
  const i64 len = a.num(2, F, "len");
  i64 W, j0, j1;
  a.cols(3, len, F, W, j0, j1);
  float* out = a.f32(0, len, F, "out");
  float* inp = a.f32(1, len, F, "inp");
  if (!a.ok) return nullptr;
  each_span(len, W, j0, j1, [&](i64 at, i64 m) { path().gelu(out + at, inp + at, m); });
  return nullptr;
}

// swiglu(out, gu, n, I[, j0, j1])
napi_value js_swiglu(napi_env env, napi_callback_info info) {
  const char* F = "swiglu";
  Args a(env, info, 4, F);
  const i64 n = a.num(2, F, "n"), I = a.num(3, F, "I");
  i64 j0 = 0, j1 = I;
  a.range(4, I, F, "j0, j1", j0, j1);
  float* out = a.f32(0, n * I, F, "out");
  float* gu = a.f32(1, n * 2 * I, F, "gu");
  if (!a.ok) return nullptr;
  swiglu(path(), out, gu, n, I, j0, j1);
  return nullptr;
}

// residual(out, a, b, len[, W, j0, j1])
napi_value js_residual(napi_env env, napi_callback_info info) {
  const char* F = "residual";
  Args a(env, info, 4, F);
  const i64 len = a.num(3, F, "len");
  i64 W, j0, j1;
  a.cols(4, len, F, W, j0, j1);
  float* out = a.f32(0, len, F, "out");
  float* x = a.f32(1, len, F, "a");
  float* y = a.f32(2, len, F, "b");
  if (!a.ok) return nullptr;
  each_span(len, W, j0, j1, [&](i64 at, i64 m) { residual(out + at, x + at, y + at, m); });
  return nullptr;
}

// Query heads [h0, h1) at argument i (any range: a rank's heads may split a KV group, whose key
// head each rank then reads, and rope rotates, alike); false after a throw.
bool heads(Args& a, size_t i, const char* F, i64 nHead, i64 nKv, i64 D, i64& h0, i64& h1) {
  if (a.ok && (nHead == 0 || nKv == 0 || nHead % nKv != 0 || D == 0)) a.fail(F, "need nHead, nKvHead, headDim > 0 and nKvHead dividing nHead");
  h0 = 0;
  h1 = nHead;
  a.range(i, nHead, F, "h0, h1", h0, h1);
  return a.ok;
}

// rope(qkv, positions, cos, sin, n, nHead, nKvHead, headDim, qNorm | null, kNorm | null, eps[, h0, h1])
napi_value js_rope(napi_env env, napi_callback_info info) {
  const char* F = "rope";
  Args a(env, info, 11, F);
  RopeArgs k{};
  k.n = a.num(4, F, "n"); k.nHead = a.num(5, F, "nHead"); k.nKv = a.num(6, F, "nKvHead"); k.D = a.num(7, F, "headDim");
  k.eps = a.dbl(10, F, "eps");
  if (a.ok && k.D % 2 != 0) a.fail(F, "headDim must be even");
  if (!heads(a, 11, F, k.nHead, k.nKv, k.D, k.h0, k.h1)) return nullptr;
  k.qkv = a.f32(0, k.n * (k.nHead + 2 * k.nKv) * k.D, F, "qkv");
  k.pos = a.i32(1, k.n, F, "positions");
  k.cos = a.f32(2, 0, F, "cos");
  k.sin = a.f32(3, 0, F, "sin");
  k.qn = a.f32_or_null(8, k.D, F, "qNorm");
  k.kn = a.f32_or_null(9, k.D, F, "kNorm");
  if (!a.ok) return nullptr;
  const i64 rows = (a.len(2) < a.len(3) ? a.len(2) : a.len(3)) / (k.D / 2);  // positions in the tables
  for (i64 r = 0; r < k.n; r++)
    if (k.pos[r] < 0 || k.pos[r] >= rows) { a.fail(F, "position out of range of the cos/sin tables"); return nullptr; }
  rope(path(), k);
  return nullptr;
}

namespace {
// Arguments i, i + 1 as a layer's K and V caches of one type, set by K's array type (names.ts
// KvCache); their rows of kvDim channels: *rows = how many both hold. A q8 cache needs kvDim a
// multiple of 32.
KvKind kv_caches(Args& a, size_t i, i64 kvDim, const char* F, const void** kc, const void** vc, i64* rows) {
  const KvKind kind = a.is_u16(i) ? KvKind::f16 : a.is_i8(i) ? KvKind::q8 : KvKind::f32;
  if (kind == KvKind::f16) { *kc = a.u16(i, 0, F, "kCache"); *vc = a.u16(i + 1, 0, F, "vCache"); }
  else if (kind == KvKind::q8) { *kc = a.i8(i, 0, F, "kCache"); *vc = a.i8(i + 1, 0, F, "vCache"); }
  else { *kc = a.f32(i, 0, F, "kCache"); *vc = a.f32(i + 1, 0, F, "vCache"); }
  if (a.ok && kind == KvKind::q8 && kvDim % 32 != 0) a.fail(F, "a q8 cache (Int8Array) needs NKV·D a multiple of 32");
  if (a.ok && kind == KvKind::q8 && (reinterpret_cast<uintptr_t>(*kc) % 4 != 0 || reinterpret_cast<uintptr_t>(*vc) % 4 != 0))
    a.fail(F, "a q8 cache (Int8Array) must start at a multiple of 4 bytes (its f32 scales)");
  if (!a.ok || kvDim <= 0) { *rows = 0; return kind; }
  const i64 l = a.len(i) < a.len(i + 1) ? a.len(i) : a.len(i + 1);
  *rows = kind == KvKind::q8 ? l / (kvDim / 32 * KvQ8::kBlockBytes) : l / kvDim;
  return kind;
}
}  // namespace

// kvWrite(qkv, kCache, vCache, slots, n, qDim, kvDim[, c0, c1]); the caches both Float32Array, both
// Uint16Array (f16 bits) or both Int8Array (q8 rows; c0, c1 multiples of 32)
napi_value js_kvwrite(napi_env env, napi_callback_info info) {
  const char* F = "kvWrite";
  Args a(env, info, 7, F);
  const i64 n = a.num(4, F, "n"), qDim = a.num(5, F, "qDim"), kvDim = a.num(6, F, "kvDim");
  i64 c0 = 0, c1 = kvDim, rows = 0;
  a.range(7, kvDim, F, "c0, c1", c0, c1);
  float* qkv = a.f32(0, n * (qDim + 2 * kvDim), F, "qkv");
  const void *kc = nullptr, *vc = nullptr;
  const KvKind kind = kv_caches(a, 1, kvDim, F, &kc, &vc, &rows);
  int32_t* slots = a.i32(3, n, F, "slots");
  if (a.ok && kind == KvKind::q8 && (c0 % 32 != 0 || c1 % 32 != 0)) a.fail(F, "a q8 cache is written in whole 32-channel blocks: c0 and c1 must be multiples of 32");
  if (!a.ok) return nullptr;
  for (i64 r = 0; r < n; r++)
    if (slots[r] < 0 || slots[r] >= rows) {
      a.fail(F, "slot out of range");
      return nullptr;
    }
  if (kind == KvKind::f16) kvwrite16(path(), qkv, (uint16_t*)kc, (uint16_t*)vc, slots, n, qDim, kvDim, c0, c1);
  else if (kind == KvKind::q8) kvwrite8(path(), qkv, (uint8_t*)kc, (uint8_t*)vc, slots, n, qDim, kvDim, c0, c1);
  else kvwrite(qkv, (float*)kc, (float*)vc, slots, n, qDim, kvDim, c0, c1);
  return nullptr;
}

// attention(out, qkv, kCache, vCache, seqIds, positions, blockTable, maxBlocksPerSeq, blockSize, n,
//           nHead, nKvHead, headDim, window, scratch[, h0, h1]); the caches as in kvWrite
napi_value js_attention(napi_env env, napi_callback_info info) {
  const char* F = "attention";
  Args a(env, info, 15, F);
  AttnArgs k{};
  k.maxB = a.num(7, F, "maxBlocksPerSeq"); k.bs = a.num(8, F, "blockSize"); k.n = a.num(9, F, "n");
  k.nHead = a.num(10, F, "nHead"); k.nKv = a.num(11, F, "nKvHead"); k.D = a.num(12, F, "headDim"); k.window = a.num(13, F, "window");
  if (a.ok && k.bs == 0) a.fail(F, "blockSize must be > 0");
  if (!heads(a, 15, F, k.nHead, k.nKv, k.D, k.h0, k.h1)) return nullptr;
  const i64 KV = k.nKv * k.D;
  k.out = a.f32(0, k.n * k.nHead * k.D, F, "out");
  k.qkv = a.f32(1, k.n * (k.nHead + 2 * k.nKv) * k.D, F, "qkv");
  i64 cacheRows = 0;
  k.kv = kv_caches(a, 2, KV, F, &k.kc, &k.vc, &cacheRows);
  if (a.ok && k.kv == KvKind::q8 && k.D % 32 != 0) a.fail(F, "a q8 cache (Int8Array) needs headDim a multiple of 32");
  k.seq = a.i32(4, k.n, F, "seqIds");
  k.pos = a.i32(5, k.n, F, "positions");
  k.table = a.i32(6, 0, F, "blockTable");
  k.scratch = a.f32(14, 0, F, "scratch");
  if (!a.ok) return nullptr;
  const i64 lt = a.len(6), ls = a.len(14);
  for (i64 r = 0; r < k.n; r++) {
    const i64 s = k.seq[r], p = k.pos[r];
    const i64 t0 = k.window > 0 && p - k.window + 1 > 0 ? p - k.window + 1 : 0;
    if (s < 0 || p < 0 || p + 1 - t0 > ls || p / k.bs >= k.maxB || (s + 1) * k.maxB > lt) {
      a.fail(F, "sequence id or position out of range (or scratch too small)");
      return nullptr;
    }
    for (i64 b = t0 / k.bs; b <= p / k.bs; b++) {
      const i64 blk = k.table[s * k.maxB + b];
      if (blk < 0 || (blk + 1) * k.bs > cacheRows) { a.fail(F, "block table entry out of range"); return nullptr; }
    }
  }
  attention(path(), k);
  return nullptr;
}

napi_value js_lmhead(napi_env env, napi_callback_info info) {
  const char* F = "lmHead";
  Args a(env, info, 6, F);
  const i64 m = a.num(3, F, "m"), C = a.num(4, F, "C"), V = a.num(5, F, "V");
  const i64 ldo = a.has(6) ? a.num(6, F, "ldo") : V;  // out row stride (a column range of wider rows)
  if (a.ok && ldo < V) a.fail(F, "ldo must be at least V");
  float* out = a.f32(0, m > 0 ? (m - 1) * ldo + V : 0, F, "out");
  float* inp = a.f32(1, m * C, F, "inp");
  float* w = a.f32(2, V * C, F, "w");
  if (!a.ok) return nullptr;
  path().lmhead(out, inp, w, m, C, V, ldo);
  return nullptr;
}

napi_value js_logsoftmax(napi_env env, napi_callback_info info) {
  const char* F = "logSoftmax";
  Args a(env, info, 4, F);
  const i64 m = a.num(2, F, "m"), V = a.num(3, F, "V");
  float* out = a.f32(0, m * V, F, "out");
  float* inp = a.f32(1, m * V, F, "inp");
  if (!a.ok) return nullptr;
  const Path& p = path();
  for (i64 r = 0; r < m; r++) p.logsoftmax_row(out + r * V, inp + r * V, V);
  return nullptr;
}

// rowArgmax(idx, max, inp, m, V)
napi_value js_rowargmax(napi_env env, napi_callback_info info) {
  const char* F = "rowArgmax";
  Args a(env, info, 5, F);
  const i64 m = a.num(3, F, "m"), V = a.num(4, F, "V");
  const i64 ld = a.has(5) ? a.num(5, F, "ld") : V;  // row stride (a column range of wider rows)
  if (a.ok && m > 0 && V == 0) a.fail(F, "V must be at least 1");
  if (a.ok && ld < V) a.fail(F, "ld must be at least V");
  int32_t* idx = a.i32(0, m, F, "idx");
  float* mx = a.f32(1, m, F, "max");
  float* inp = a.f32(2, m > 0 ? (m - 1) * ld + V : 0, F, "inp");
  if (!a.ok) return nullptr;
  const Path& p = path();
  for (i64 r = 0; r < m; r++) p.argmax_row(inp + r * ld, V, idx + r, mx + r);
  return nullptr;
}

// hugePages(view: Uint8Array) → bytes advised. Asks Linux to back the 2 MiB-aligned part of a
// (not yet touched) buffer with transparent huge pages (MADV_HUGEPAGE; THP "madvise" mode): a page
// fault then maps 2 MiB instead of 4 KiB, and streaming weights needs 512× fewer TLB entries.
// 0 where unsupported; never changes the buffer's contents.
// mallocThreshold(bytes): glibc's mmap threshold fixed at `bytes` (mallopt also stops glibc raising
// it each time a large block is freed); true if set, false where the C library has no such knob
napi_value js_mallocthreshold(napi_env env, napi_callback_info info) {
  const char* F = "mallocThreshold";
  Args a(env, info, 1, F);
  const i64 bytes = a.num(0, F, "bytes");
  if (!a.ok) return nullptr;
  bool set = false;
#if defined(__GLIBC__)
  set = bytes <= (i64)INT32_MAX && mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
#endif
  napi_value r;
  napi_get_boolean(env, set, &r);
  return r;
}

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


napi_value str(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

// setSimd(name: "portable" | "avx2-fma" | "avx512-vnni" | "amx-int8" | "default") → the path this thread now runs. For tests
// (both paths in one process); throws when the path is unknown or this CPU lacks it.
napi_value js_setsimd(napi_env env, napi_callback_info info) {
  const char* F = "setSimd";
  Args a(env, info, 1, F);
  char name[32] = {0};
  size_t got = 0;
  if (a.ok && napi_get_value_string_utf8(env, a.v[0], name, sizeof name, &got) != napi_ok) a.fail(F, "name must be a string");
  if (a.ok && !set_path(name)) a.fail(F, "unknown path, or not supported by this CPU (known: portable, avx2-fma, avx512-vnni, amx-int8, default)");
  if (!a.ok) return nullptr;
  return str(env, path().name);
}

}  // namespace
}  // namespace pg

NAPI_MODULE_INIT() {
  using namespace pg;
  struct { const char* name; napi_callback cb; } fns[] = {
      {"embedding", js_embedding}, {"layernorm", js_layernorm}, {"rmsnorm", js_rmsnorm}, {"matmul", js_matmul},
      {"gelu", js_gelu}, {"swiglu", js_swiglu}, {"residual", js_residual}, {"rope", js_rope}, {"kvWrite", js_kvwrite},
      {"attention", js_attention}, {"lmHead", js_lmhead}, {"logSoftmax", js_logsoftmax}, {"rowArgmax", js_rowargmax},
      {"matmulQ8", js_matmulq8}, {"quantizeRowsQ8", js_quantizerowsq8}, {"matmulQ8Rows", js_matmulq8rows}, {"embeddingQ8", js_embeddingq8}, {"matmul16", js_matmul16}, {"quantizeRowsQ8From", js_quantizerowsq8from}, {"quantizeColsBandQ8", js_quantizecolsbandq8}, {"widen16", js_widen16}, {"narrow16", js_narrow16}, {"transposeInto", js_transposeinto}, {"transpose16Into", js_transpose16into}, {"firstNonFinite", js_firstnonfinite}, {"firstNonFinite16", js_firstnonfinite16},
      {"hugePages", js_hugepages}, {"mallocThreshold", js_mallocthreshold}, {"setSimd", js_setsimd},
  };
  for (auto& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    napi_set_named_property(env, exports, f.name, fn);
  }
  napi_set_named_property(env, exports, "simd", str(env, default_path().name));
#if defined(__x86_64__)
  const char* arch = "x64";
#elif defined(__aarch64__)
  const char* arch = "arm64";
#else
  const char* arch = "other";
#endif
  napi_set_named_property(env, exports, "arch", str(env, arch));
  return exports;
}
