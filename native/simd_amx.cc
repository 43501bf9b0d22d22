// The amx-int8 Path (Sapphire Rapids and later): the avx512-vnni Path, except that Q8 block dots of
// full 16-row activation groups run on AMX tiles (amx_tiles.h: C [16 rows × 16 weight rows] int32 =
// tdpbssd per 32-deep block, i.e. S_b, signed × signed, exact). Leftover rows (and 1-row calls)
// take the VNNI kernels, which give the same integers, so the float combination and the bits are
// those of every other path.
// Linux needs arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) before the first tile
// instruction; the grant covers the whole process. The path is the default where the CPU has
// AMX-INT8, the grant succeeds and amx::self_check() gets the VNNI kernel's integers from the tiles
// (it was written on machines without AMX: the check keeps a wrong tile unit or kernel from ever
// touching a job's output). amx-int8-sim runs the same body on amx_sim.h's software tiles: forced
// only (PIPEGPT_NATIVE_SIMD / setSimd), on every AVX-512 VNNI machine, for the tests.
#include "simd_avx512.h"

#if PG_HAVE_AVX2_PATH && defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "amx_sim.h"

namespace pg {
namespace amx {
namespace {

struct alignas(64) TileCfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// tmm0 = C (16 × 64 bytes: 16 int32), tmm1 = A (16 × 32 bytes), tmm2 = B (8 × 64 bytes)
TileCfg make_cfg() {
  TileCfg c;
  std::memset(&c, 0, sizeof c);
  c.palette = 1;
  c.rows[0] = 16; c.colsb[0] = 64;
  c.rows[1] = 16; c.colsb[1] = 32;
  c.rows[2] = 8;  c.colsb[2] = 64;
  return c;
}
const TileCfg g_cfg = make_cfg();

#define PG_AMX __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))

// the hardware
#define PG_TILE_FN PG_AMX void q8_dots_amx
#define PG_TILE_CONFIG(c) _tile_loadconfig(c)
#define PG_TILE_ZERO(t) _tile_zero(t)
#define PG_TILE_LOAD(t, p, s) _tile_loadd(t, p, s)
#define PG_TILE_DP(c, a, b) _tile_dpbssd(c, a, b)
#define PG_TILE_STORE(t, p, s) _tile_stored(t, p, s)
#define PG_TILE_RELEASE() _tile_release()
#include "amx_tiles.h"
#undef PG_TILE_FN
#undef PG_TILE_CONFIG
#undef PG_TILE_ZERO
#undef PG_TILE_LOAD
#undef PG_TILE_DP
#undef PG_TILE_STORE
#undef PG_TILE_RELEASE

// the software model
#define PG_TILE_FN void q8_dots_sim
#define PG_TILE_CONFIG(c) amx_sim::loadconfig(c)
#define PG_TILE_ZERO(t) amx_sim::zero(t)
#define PG_TILE_LOAD(t, p, s) amx_sim::loadd(t, p, s)
#define PG_TILE_DP(c, a, b) amx_sim::dpbssd(c, a, b)
#define PG_TILE_STORE(t, p, s) amx_sim::stored(t, p, s)
#define PG_TILE_RELEASE() amx_sim::release()
#include "amx_tiles.h"

// The tiles against the VNNI kernel on 35 rows (two tile groups and 3 leftover) × 96 deep
// (3 blocks), values over the whole int8 range including ±127 at every position class.
bool self_check() {
  constexpr i64 n = 35, Ip = 96, nb = Ip / 32;
  int8_t xq[n * Ip], w[16 * Ip];
  uint32_t s = 12345;
  auto next = [&s] { s = s * 1103515245u + 12345u; return (int8_t)((int)((s >> 16) % 255) - 127); };
  for (auto& v : xq) v = next();
  for (auto& v : w) v = next();
  xq[0] = 127; xq[Ip - 1] = -127; w[0] = -127; w[16 * Ip - 1] = 127;
  int32_t a[n * nb * 16], b[n * nb * 16];
  q8_dots_amx(a, xq, n, w, Ip, Ip);
  avx512::q8_dots(b, xq, n, w, Ip, Ip);
  return std::memcmp(a, b, sizeof a) == 0;
}

}  // namespace
}  // namespace amx

bool cpu_has_amx_int8() {
  static const bool ok = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!((d >> 24) & 1) || !((d >> 25) & 1)) return false;  // AMX-TILE, AMX-INT8
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) != 0) return false;
    return amx::self_check();
  }();
  return ok;
}

const Path& amx_int8_path() {
  static const Path p = [] {
    Path q = avx512_vnni_path();
    q.name = "amx-int8";
    q.q8_dots = amx::q8_dots_amx;
    q.q8_tile = nullptr;  // its q8_dots (tiles) then q8_combine
    return q;
  }();
  return p;
}

const Path& amx_int8_sim_path() {
  static const Path p = [] {
    Path q = amx_int8_path();
    q.name = "amx-int8-sim";
    q.q8_dots = amx::q8_dots_sim;
    return q;
  }();
  return p;
}

}  // namespace pg
#else
namespace pg {
bool cpu_has_amx_int8() { return false; }
const Path& amx_int8_path() { return kPortablePath; }  // never picked: cpu_has_amx_int8() is false
const Path& amx_int8_sim_path() { return kPortablePath; }  // never picked: no avx512-vnni here
}  // namespace pg
#endif
