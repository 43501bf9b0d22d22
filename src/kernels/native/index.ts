// The "native" kernel backend: the Node-API addon built from native/*.cc. loadNativeKernels()
// registers its kernels and returns null, or returns why it cannot load here (then registers
// nothing). Which SIMD path the addon picked at load: nativeSimd(); another for this thread
// (tests): setNativeSimd().
import type { KernelSet } from '../names.js';
import { registerKernelSet } from '../registry.js';
import { addon, loadAddon, type NativeSimdPath } from './addon.js';
import { attention } from './attention.js';
import { embedding, embeddingQ8 } from './embedding.js';
import { gelu } from './gelu.js';
import { kvWrite } from './kv-write.js';
import { layernorm } from './layernorm.js';
import { lmHead } from './lm-head.js';
import { logSoftmax } from './log-softmax.js';
import { matmul } from './matmul.js';
import { matmul16, matmulQ8, matmulQ8Rows, quantizeRowsQ8 } from './matmul-quant.js';
import { residual } from './residual.js';
import { rmsnorm } from './rmsnorm.js';
import { rope } from './rope.js';
import { rowArgmax } from './row-argmax.js';
import { swiglu } from './swiglu.js';

export const nativeKernels: KernelSet = {
  embedding, layernorm, rmsnorm, matmul, gelu, swiglu, residual, rope, kvWrite, attention, lmHead, logSoftmax, rowArgmax, matmulQ8, quantizeRowsQ8, matmulQ8Rows, matmul16, embeddingQ8,
};

export function loadNativeKernels(): string | null {
  const reason = loadAddon();
  if (reason !== null) return reason;
  registerKernelSet('native', nativeKernels);
  return null;
}

/** The path picked at load ("amx-int8" | "avx512-vnni" | "avx2-fma" | "portable") once loaded, else null. */
export function nativeSimd(): string | null {
  return loadAddon() === null ? addon().simd : null;
}

/**
 * Runs this thread's later native calls on `path` ('default': the one picked at load) and returns
 * the path now in use; throws when the addon is not loaded or this CPU lacks the path.
 */
/**
 * Every native SIMD path, fastest first (which of them this CPU runs: try setNativeSimd), then
 * amx-int8-sim: amx-int8's kernel on a software model of the tiles, which only a name picks (tests).
 */
export const NATIVE_SIMD_PATHS: readonly NativeSimdPath[] = ['amx-int8', 'avx512-vnni', 'avx2-fma', 'portable', 'amx-int8-sim'];

export function setNativeSimd(path: NativeSimdPath | 'default'): NativeSimdPath {
  return addon().setSimd(path);
}
