// A software model of the AMX tile instructions the amx-int8 Path uses (ldtilecfg, tilezero,
// tileloadd, tdpbssd, tilestored, tilerelease), written from the pseudocode in Intel's SDM vol. 2
// (TILELOADD, TDPBSSD, ...) and the palette-1 limits (8 tiles, ≤ 16 rows, ≤ 64 bytes a row). The
// amx-int8-sim Path runs the amx-int8 kernel body (amx_tiles.h) on it, so that the kernel's tile
// shapes, strides and the VNNI packing of B are checked on any AVX-512 machine, bit for bit against
// the other paths (test/kernels/simd-paths.test.ts). What it cannot check is the silicon itself
// (and the OS grant): on an AMX CPU the real path must also pass amx::self_check() before it is used.
// A use the hardware would fault on (#UD: unconfigured tile, shapes that do not chain, bad config)
// prints what and aborts, as the hardware's SIGILL would.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pg {
namespace amx_sim {

struct Tiles {
  bool configured = false;
  uint8_t rows[8] = {};
  uint16_t colsb[8] = {};
  alignas(64) uint8_t t[8][16][64] = {};  // tile i, row r: 64 bytes (bytes past colsb read as 0)
};
inline thread_local Tiles g;

[[noreturn]] inline void fault(const char* what, int a = -1, int b = -1, int c = -1) {
  std::fprintf(stderr, "amx-int8-sim: the hardware would fault (#UD): %s (%d, %d, %d)\n", what, a, b, c);
  std::abort();
}

inline void use(int i) {
  if (!g.configured) fault("tile instruction before ldtilecfg", i);
  if (i < 0 || i > 7 || g.rows[i] == 0 || g.colsb[i] == 0) fault("tile not configured", i);
}

// ldtilecfg m512: byte 0 palette, 1 start_row, 16 + 2i colsb of tile i (u16), 48 + i rows of tile i
inline void loadconfig(const void* cfg) {
  const uint8_t* p = static_cast<const uint8_t*>(cfg);
  if (p[0] == 0) { g = Tiles{}; return; }  // palette 0: init state
  if (p[0] != 1 || p[1] != 0) fault("palette must be 1 and start_row 0", p[0], p[1]);
  for (int i = 0; i < 16; i++) {
    uint16_t cb;
    std::memcpy(&cb, p + 16 + 2 * i, 2);
    const uint8_t r = p[48 + i];
    if (i >= 8 ? (cb | r) != 0 : (cb > 64 || r > 16 || (cb == 0) != (r == 0))) fault("bad tile shape", i, r, cb);
    if (i < 8) { g.rows[i] = r; g.colsb[i] = cb; }
  }
  g.configured = true;
  std::memset(g.t, 0, sizeof g.t);
}

inline void zero(int i) { use(i); std::memset(g.t[i], 0, sizeof g.t[i]); }

// TILELOADD: row r = colsb bytes at base + r·stride; the rest of the tile zeroed
inline void loadd(int i, const void* base, long stride) {
  use(i);
  std::memset(g.t[i], 0, sizeof g.t[i]);
  for (int r = 0; r < g.rows[i]; r++) std::memcpy(g.t[i][r], static_cast<const uint8_t*>(base) + r * stride, g.colsb[i]);
}

// TILESTORED: colsb bytes of row r to base + r·stride
inline void stored(int i, void* base, long stride) {
  use(i);
  for (int r = 0; r < g.rows[i]; r++) std::memcpy(static_cast<uint8_t*>(base) + r * stride, g.t[i][r], g.colsb[i]);
}

// TDPBSSD c, a, b: c[m].dword[n] += Σ_{k < a.colsb/4} Σ_{e<4} s8(a[m].byte[4k+e]) · s8(b[k].byte[4n+e])
// with #UD unless a.colsb/4 = b.rows (K), c.colsb = b.colsb (N), c.rows = a.rows (M)
inline void dpbssd(int c, int a, int b) {
  use(c); use(a); use(b);
  if (c == a || c == b || a == b) fault("tdpbssd needs three distinct tiles", c, a, b);
  const int M = g.rows[c], N = g.colsb[c] / 4, K = g.colsb[a] / 4;
  if (g.colsb[a] % 4 || g.colsb[c] % 4 || K != g.rows[b] || g.colsb[c] != g.colsb[b] || M != g.rows[a])
    fault("tdpbssd shapes do not chain (c, a, b)", c, a, b);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      int32_t acc;
      std::memcpy(&acc, g.t[c][m] + 4 * n, 4);
      for (int k = 0; k < K; k++)
        for (int e = 0; e < 4; e++)
          acc += (int32_t)(int8_t)g.t[a][m][4 * k + e] * (int32_t)(int8_t)g.t[b][k][4 * n + e];
      std::memcpy(g.t[c][m] + 4 * n, &acc, 4);
    }
}

inline void release() { g = Tiles{}; }

}  // namespace amx_sim
}  // namespace pg
