// The "native" kernel backend: the Node-API addon built from native/kernels.cc. loadNativeKernels()
// registers its ten kernels and returns null, or returns why it cannot load here (then registers
// nothing). Which SIMD path the addon picked at load: nativeSimd().
import { registerKernel, type KernelConfig } from '../registry.js';
import { addon, loadAddon } from './addon.js';
import { attentionConfig } from './attention.js';
import { embeddingConfig } from './embedding.js';
import { geluConfig } from './gelu.js';
import { kvWriteConfig } from './kv-write.js';
import { layernormConfig } from './layernorm.js';
import { lmHeadConfig } from './lm-head.js';
import { logSoftmaxConfig } from './log-softmax.js';
import { matmulConfig } from './matmul.js';
import { residualConfig } from './residual.js';
import { rowArgmaxConfig } from './row-argmax.js';

export const nativeKernels: KernelConfig[] = [
  embeddingConfig, layernormConfig, matmulConfig, geluConfig, residualConfig,
  kvWriteConfig, attentionConfig, lmHeadConfig, logSoftmaxConfig, rowArgmaxConfig,
] as KernelConfig[];

export function loadNativeKernels(): string | null {
  const reason = loadAddon();
  if (reason !== null) return reason;
  for (const k of nativeKernels) registerKernel(k);
  return null;
}

/** "avx2-fma" | "portable" once loaded, else null. */
export function nativeSimd(): string | null {
  return loadAddon() === null ? addon().simd : null;
}
