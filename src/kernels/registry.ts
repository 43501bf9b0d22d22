// Kernels registered by (backend, op), keyed `${backend}_${op}` (tfjs kernel_registry.ts).
// Registering a key twice throws, asking for a missing one throws: a typo never falls back silently.
import { KernelRegistryError } from '../errors.js';
import { OPS, type KernelSet, type OpName } from './names.js';

export interface KernelConfig<K extends OpName = OpName> {
  backend: string;
  op: K;
  fn: KernelSet[K];
}

const registry = new Map<string, KernelConfig>();

export function registerKernel(config: KernelConfig): void {
  const key = `${config.backend}_${config.op}`;
  if (registry.has(key)) throw new KernelRegistryError(`kernel ${key} is already registered`);
  registry.set(key, config);
}

/**
 * Registers a backend's whole op set in OPS order. Each backend types its set as `KernelSet`, so
 * an op it lacks (or spells differently) is a compile error, not a registry error at run time.
 */
export function registerKernelSet(backend: string, set: KernelSet): void {
  for (const op of OPS) registerKernel({ backend, op, fn: set[op] } as KernelConfig);
}

export function getKernel<K extends OpName>(backend: string, op: K): KernelSet[K] {
  const k = registry.get(`${backend}_${op}`);
  if (!k) throw new KernelRegistryError(`no kernel registered for op "${op}" on backend "${backend}" (registered backends: ${registeredBackends().join(', ') || 'none'})`);
  return k.fn as KernelSet[K];
}

export function registeredBackends(): string[] {
  return [...new Set([...registry.values()].map((k) => k.backend))];
}

/** The complete op set of one backend; throws naming the first op it lacks. */
export function kernelSet(backend: string): KernelSet {
  const set = {} as Record<OpName, unknown>;
  for (const op of OPS) set[op] = getKernel(backend, op);
  return set as unknown as KernelSet;
}
