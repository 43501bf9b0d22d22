// Registers every backend's kernels once (tfjs register_all_kernels.ts). A backend that cannot
// load on this machine (no GPU, addon not built) is listed as unavailable with its reason.
import { KernelRegistryError } from '../errors.js';
import { registerKernelSet } from './registry.js';
import { referenceKernels } from './reference/index.js';
import { loadNativeKernels } from './native/index.js';
import { gpujsPreferred, loadGpujsKernels } from './gpujs/index.js';

export interface BackendStatus { name: string; available: boolean; reason: string | null }

/**
 * Backends other than the reference: each loader registers its kernels and returns null, or
 * returns the reason it cannot load here. Order = preference of `auto` (fastest first).
 */
const optionalBackends: Array<[string, () => string | null]> = [['native', loadNativeKernels], ['gpujs', loadGpujsKernels]];

let statuses: BackendStatus[] | null = null;

/**
 * Registers the reference kernels and every optional backend; with `only`, just that backend
 * (a stage worker loads the one backend the coordinator chose, not gpu.js and the addon both).
 */
export function registerAllKernels(only?: string): BackendStatus[] {
  if (statuses) return statuses;
  registerKernelSet('reference', referenceKernels);
  statuses = [{ name: 'reference', available: true, reason: null }];
  for (const [name, load] of optionalBackends) {
    if (only !== undefined && name !== only) continue;
    let reason: string | null;
    try {
      reason = load();
    } catch (e) {
      reason = (e as Error).message;
    }
    statuses.push({ name, available: reason === null, reason });
  }
  return statuses;
}

export function backendStatus(): BackendStatus[] {
  return registerAllKernels();
}

/**
 * The backend to use for a name from config/CLI: "auto" = the first available in preference
 * order; a named backend that cannot load here throws with its reason.
 */
export function resolveBackend(name: string): string {
  const all = registerAllKernels();
  // gpujs loads wherever gpu.js runs, but on the CPU (webasm/cpu, software GL) it is slower than
  // the reference: `auto` takes it only when it runs on a hardware GPU (gpujsPreferred()).
  if (name === 'auto') return (all.slice(1).find((b) => b.available && (b.name !== 'gpujs' || gpujsPreferred())) ?? all[0]).name;
  const b = all.find((s) => s.name === name);
  if (!b) throw new KernelRegistryError(`unknown kernel backend "${name}" (known: auto, ${all.map((s) => s.name).join(', ')})`);
  if (!b.available) throw new KernelRegistryError(`kernel backend "${name}" cannot load here: ${b.reason}`);
  return b.name;
}
