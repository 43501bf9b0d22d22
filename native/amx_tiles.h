// The amx-int8 kernel body, included twice by simd_amx.cc: once over the AMX intrinsics (the real
// path) and once over amx_sim.h (amx-int8-sim, the same body on a software tile unit, for tests on
// machines without AMX). The includer defines PG_TILE_FN (the function's name and attributes) and
// PG_TILE_CONFIG / _ZERO / _LOAD / _DP / _STORE / _RELEASE (tile numbers are literals: the
// intrinsics paste them into the instruction).
//
// dst[(r·nb + b)·16 + jj] = S_b for rows r < n of xq [n, Ip] against 16 weight rows w [16, ldw]:
// per 16 full rows and block b, C (tmm0, 16 × 16 int32) = tdpbssd(A = 16 rows × 32 bytes of xq
// (tmm1), B = pack16's 8 groups × 16 dwords of block b (tmm2: the VNNI layout tdpbssd reads)).
// Leftover rows (and calls under 16 rows) take the VNNI kernels, which give the same integers.
// No #pragma once: it is meant to be included more than once.
PG_TILE_FN(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) {
  if (n < 16) { avx512::q8_dots(dst, xq, n, w, ldw, Ip); return; }
  const i64 nb = Ip / 32, full = n & ~(i64)15;
  const int32_t* pk = avx512::pack16(w, ldw, nb);
  __asm__ __volatile__("" ::: "memory");  // the tile loads below are asm reading pk and xq
  PG_TILE_CONFIG(&g_cfg);
  for (i64 r = 0; r < full; r += 16)
    for (i64 b = 0; b < nb; b++) {
      PG_TILE_ZERO(0);
      PG_TILE_LOAD(1, xq + r * Ip + b * 32, Ip);
      PG_TILE_LOAD(2, pk + b * 8 * 16, 64);
      PG_TILE_DP(0, 1, 2);
      PG_TILE_STORE(0, dst + (r * nb + b) * 16, nb * 16 * 4);
    }
  PG_TILE_RELEASE();
  if (full < n) avx512::dots_packed(dst, xq, full, n, nb, pk);
}
