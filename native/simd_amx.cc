// The amx-int8 Path (Sapphire Rapids and later): the avx512-vnni Path, except that Q8 block dots of
// full 16-row activation groups run on AMX tiles: per block b, C [16 rows × 16 weight rows] int32 =
// tdpbssd(A = xq rows [16 × 32 bytes], B = the packed weights of block b [8 × 64 bytes]), i.e. S_b
// (signed × signed, exact). Leftover rows (and 1-row calls) take the VNNI kernels, which give the
// same integers, so the float combination and the bits are those of every other path.
// Linux needs arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) before the first tile
// instruction; the grant covers the whole process, and the path counts as unsupported if it fails.
// NOT the default yet: written on a machine without AMX (dispatch.cc); forced with
// PIPEGPT_NATIVE_SIMD=amx-int8 or setSimd('amx-int8'), where the tests run it on every AMX machine.
#include "simd_avx512.h"

#if PG_HAVE_AVX2_PATH && defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

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

PG_AMX void q8_dots_amx(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) {
  if (n < 16) { avx512::q8_dots(dst, xq, n, w, ldw, Ip); return; }
  const i64 nb = Ip / 32, full = n & ~(i64)15;
  const int32_t* pk = avx512::pack16(w, ldw, nb);
  __asm__ __volatile__("" ::: "memory");  // the tile loads below are asm reading pk and xq
  _tile_loadconfig(&g_cfg);
  for (i64 r = 0; r < full; r += 16)
    for (i64 b = 0; b < nb; b++) {
      _tile_zero(0);
      _tile_loadd(1, xq + r * Ip + b * 32, Ip);
      _tile_loadd(2, pk + b * 8 * 16, 64);
      _tile_dpbssd(0, 1, 2);
      _tile_stored(0, dst + (r * nb + b) * 16, nb * 16 * 4);
    }
  _tile_release();
  if (full < n) avx512::dots_packed(dst, xq, full, n, nb, pk);
}

}  // namespace
}  // namespace amx

bool cpu_has_amx_int8() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!((d >> 24) & 1) || !((d >> 25) & 1)) return false;  // AMX-TILE, AMX-INT8
  static const bool granted = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
  return granted;
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

}  // namespace pg
#else
namespace pg {
bool cpu_has_amx_int8() { return false; }
const Path& amx_int8_path() { return kPortablePath; }  // never picked: cpu_has_amx_int8() is false
}  // namespace pg
#endif
