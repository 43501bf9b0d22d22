// The one place that picks a Path (kernels.h). At load: the fastest path this CPU supports, unless
// PIPEGPT_NATIVE_SIMD names another (portable | avx2-fma | avx512-vnni | amx-int8 | amx-int8-sim;
// one this CPU lacks is ignored). Per thread: set_path() (JS setSimd) swaps the calling thread's path, so a test can run
// every path in one process; other threads keep theirs.
// A new ISA path: define its Path in its own simd_*.cc, add it to kPaths (fastest first) with its
// CPU check.
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace pg {
namespace {

bool cpu_has_avx2_fma() {
#if PG_HAVE_AVX2_PATH
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool cpu_has_avx512_vnni() {
#if PG_HAVE_AVX2_PATH
  __builtin_cpu_init();
  return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

const Path* portable() { return &kPortablePath; }
#if PG_HAVE_AVX2_PATH
const Path* avx2() { return &kAvx2Path; }
const Path* avx512() { return &avx512_vnni_path(); }
#endif

const Path* amx() { return &amx_int8_path(); }
bool cpu_has_amx() { return cpu_has_avx512_vnni() && cpu_has_amx_int8(); }
const Path* amx_sim() { return &amx_int8_sim_path(); }

struct Candidate { const char* name; const Path* (*get)(); bool (*supported)(); };
bool always() { return true; }

// amx-int8-sim (a software tile unit: slow) exists for the tests; only a name picks it.
const Candidate kForcedOnly[] = {{"amx-int8-sim", amx_sim, cpu_has_avx512_vnni}};

const Candidate kPaths[] = {  // fastest first
#if PG_HAVE_AVX2_PATH
    {"amx-int8", amx, cpu_has_amx},  // only where its self-check passed (simd_amx.cc)
    {"avx512-vnni", avx512, cpu_has_avx512_vnni},
    {"avx2-fma", avx2, cpu_has_avx2_fma},
#endif
    {"portable", portable, always},
};

const Path* pick_default() {
  const char* env = std::getenv("PIPEGPT_NATIVE_SIMD");
  if (env && *env) {
    for (const Candidate& c : kForcedOnly)
      if (std::strcmp(env, c.name) == 0 && c.supported()) return c.get();
    for (const Candidate& c : kPaths)
      if (std::strcmp(env, c.name) == 0 && c.supported()) return c.get();
  }
  for (const Candidate& c : kPaths)
    if (c.supported()) return c.get();
  return &kPortablePath;
}

const Path* const g_default = pick_default();  // process-wide, immutable after load
thread_local const Path* t_path = g_default;

}  // namespace

const Path& default_path() { return *g_default; }
const Path& path() { return *t_path; }

bool set_path(const char* name) {
  if (std::strcmp(name, "default") == 0) { t_path = g_default; return true; }
  for (const Candidate& c : kForcedOnly)
    if (std::strcmp(name, c.name) == 0 && c.supported()) { t_path = c.get(); return true; }
  for (const Candidate& c : kPaths)
    if (std::strcmp(name, c.name) == 0 && c.supported()) { t_path = c.get(); return true; }
  return false;
}

}  // namespace pg
