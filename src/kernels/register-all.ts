// Registers every backend's kernels once (tfjs register_all_kernels.ts).
import { registerKernel, type KernelConfig } from './registry.js';
import { attentionConfig } from './reference/attention.js';
import { embeddingConfig } from './reference/embedding.js';
import { geluConfig } from './reference/gelu.js';
import { kvWriteConfig } from './reference/kv-write.js';
import { layernormConfig } from './reference/layernorm.js';
import { lmHeadConfig } from './reference/lm-head.js';
import { logSoftmaxConfig } from './reference/log-softmax.js';
import { matmulConfig } from './reference/matmul.js';
import { residualConfig } from './reference/residual.js';

const referenceKernels: KernelConfig[] = [
  embeddingConfig, layernormConfig, matmulConfig, geluConfig, residualConfig,
  kvWriteConfig, attentionConfig, lmHeadConfig, logSoftmaxConfig,
] as KernelConfig[];

let done = false;
export function registerAllKernels(): void {
  if (done) return;
  done = true;
  for (const k of referenceKernels) registerKernel(k);
}
