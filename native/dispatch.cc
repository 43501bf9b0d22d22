// The one place that picks a Path (kernels.h). At load: the fastest path this CPU supports, unless
// PIPEGPT_NATIVE_SIMD=portable forces the portable one. Per thread: set_path() (JS setSimd) swaps
// the calling thread's path, so a test can run both paths in one process; other threads keep theirs.
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
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

struct Candidate { const Path* path; bool (*supported)(); };
bool always() { return true; }

const Candidate kPaths[] = {  // fastest first
#if PG_HAVE_AVX2_PATH
    {&kAvx2Path, cpu_has_avx2_fma},
#endif
    {&kPortablePath, always},
};

const Path* pick_default() {
  const char* env = std::getenv("PIPEGPT_NATIVE_SIMD");
  if (env && std::strcmp(env, "portable") == 0) return &kPortablePath;
  for (const Candidate& c : kPaths)
    if (c.supported()) return c.path;
  return &kPortablePath;
}

const Path* const g_default = pick_default();  // process-wide, immutable after load
thread_local const Path* t_path = g_default;

}  // namespace

const Path& default_path() { return *g_default; }
const Path& path() { return *t_path; }

bool set_path(const char* name) {
  if (std::strcmp(name, "default") == 0) { t_path = g_default; return true; }
  for (const Candidate& c : kPaths)
    if (std::strcmp(name, c.path->name) == 0 && c.supported()) { t_path = c.path; return true; }
  return false;
}

}  // namespace pg
