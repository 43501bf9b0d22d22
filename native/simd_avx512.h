// The avx512-vnni Path's Q8 pieces shared with the amx-int8 Path (simd_avx512.cc, simd_amx.cc).
#pragma once

#include "simd_avx2.h"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx512 {

// Repacks 16 weight rows w [16, ldw] (nb·32 bytes each) for vpdpbusd / tdpbssd: group g of block b
// is 16 dwords at pk + (b·8 + g)·16, dword jj = bytes w[jj, 32b + 4g .. +3] (the VNNI B layout);
// then comp [nb, 16] = 128·Σ_{k∈b} w[jj, k]; with u8, the bytes as w + 128 (XOR 0x80) and no comp. Returns pk (this thread's buffer, valid until the next call).
const int32_t* pack16(const int8_t* w, i64 ldw, i64 nb, bool u8 = false);
// dst[(r·nb + b)·16 + jj] = S_b for activation rows [r0, n) of xq [n, nb·32] against packed pk
void dots_packed(int32_t* dst, const int8_t* xq, i64 r0, i64 n, i64 nb, const int32_t* pk);
void q8_dots(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip);
void quantize_row_q8(int8_t* q, float* d, const float* x, i64 I);
void q8_combine(float* s, const int32_t* isum, const float* xd, const float* wsT, i64 nb);
// simd_avx512_gemm.cc: matmul_acc / matmul16_acc with zmm tiles (same chains, same bits as avx2's)
void matmul_acc(float* out, const float* x, const float* w, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);
void matmul16_acc(float* out, const float* x, const uint16_t* w, int kind, i64 n, i64 I, i64 O, i64 ldw, i64 ldo);

}  // namespace avx512
}  // namespace pg
#endif
