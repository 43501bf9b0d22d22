// The same test body on every kernel backend (tfjs describeWithFlags). A backend that cannot
// load here is reported as skipped (with the reason in the title), never as passed.
// The native backend runs twice where its SIMD path is not already the portable one: as picked at
// load, and as "native-portable" (this thread switched to the portable path for the body, which must
// be synchronous so no other test runs meanwhile).
import test, { type ExecutionContext } from 'ava';
import { registerAllKernels, backendStatus } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { NATIVE_SIMD_PATHS, nativeSimd, setNativeSimd } from '../../src/kernels/native/index.js';
import type { KernelSet } from '../../src/kernels/names.js';

// With { allSimd: true } the native backend also runs as every other SIMD path it has
// ([native-avx2-fma], [native-avx512-vnni], ...); a path this CPU lacks is a skipped test saying so.
export function forEachBackend(title: string, body: (t: ExecutionContext, k: KernelSet, backend: string) => void | Promise<void>,
  opts: { allSimd?: boolean } = {}): void {
  registerAllKernels();
  const all = backendStatus();
  if (all.length === 0) throw new Error('no kernel backend registered');
  for (const b of all) {
    if (b.available) test(`[${b.name}] ${title}`, (t) => body(t, kernelSet(b.name), b.name));
    else test.skip(`[${b.name}] ${title} (backend unavailable: ${b.reason})`, () => {});
    if (b.name !== 'native' || !b.available) continue;
    for (const p of opts.allSimd ? NATIVE_SIMD_PATHS : ['portable' as const]) {
      if (p === nativeSimd()) continue;
      let lacks: string | null = null;
      try {
        setNativeSimd(p);
      } catch (e) {
        lacks = (e as Error).message;
      } finally {
        setNativeSimd('default');
      }
      if (lacks !== null) { test.skip(`[native-${p}] ${title} (this CPU lacks it: ${lacks})`, () => {}); continue; }
      test(`[native-${p}] ${title}`, (t) => {
        t.is(setNativeSimd(p), p);
        try {
          if (body(t, kernelSet('native'), `native-${p}`) instanceof Promise) t.fail(`a native-${p} test body must be synchronous`);
        } finally {
          setNativeSimd('default');
        }
      });
    }
  }
}
