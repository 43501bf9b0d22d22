// The same test body on every kernel backend (tfjs describeWithFlags). A backend that cannot
// load here is reported as skipped (with the reason in the title), never as passed.
import test, { type ExecutionContext } from 'ava';
import { registerAllKernels, backendStatus } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import type { KernelSet } from '../../src/kernels/names.js';

export function forEachBackend(title: string, body: (t: ExecutionContext, k: KernelSet, backend: string) => void | Promise<void>): void {
  registerAllKernels();
  const all = backendStatus();
  if (all.length === 0) throw new Error('no kernel backend registered');
  for (const b of all) {
    if (b.available) test(`[${b.name}] ${title}`, (t) => body(t, kernelSet(b.name), b.name));
    else test.skip(`[${b.name}] ${title} (backend unavailable: ${b.reason})`, () => {});
  }
}
