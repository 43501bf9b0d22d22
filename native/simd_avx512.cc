// The avx512-vnni Path: the avx2-fma Path, except the Q8 block dots use vpdpbusd (AVX-512 VNNI on
// 256-bit vectors: |w| u8 × x·sign(w) s8 summed in groups of 4 straight into i32). Same S_b, so
// the same bits as every other path.
#include "simd_avx2.h"

#if PG_HAVE_AVX2_PATH
namespace pg {
namespace avx512 {
namespace {

#define PG_Q8_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
PG_Q8_TARGET inline __m256i dot_vnni(__m256i aw, __m256i sx) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx); }
#define PG_Q8_DOT dot_vnni
#include "simd_q8.h"

}  // namespace

void q8_dots(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) { q8_dots_simd(dst, xq, n, w, ldw, Ip); }

}  // namespace avx512

const Path& avx512_vnni_path() {
  static const Path p = [] {
    Path q = kAvx2Path;
    q.name = "avx512-vnni";
    q.q8_dots = avx512::q8_dots;
    return q;
  }();
  return p;
}

}  // namespace pg
#endif
