// The gpujs kernel backend: the KernelSet written as gpu.js kernels (see docs/gpujs.md).
// loadGpujsKernels() registers the ten kernels and returns null, or returns why it cannot load.
// It registers even when gpu.js only runs on the CPU here (webasm/cpu, or headless-gl on a software
// rasterizer) so tests and `--backend gpujs` work; gpujsPreferred() tells `auto` whether to pick it.
import { registerKernel, type KernelConfig } from '../registry.js';
import { attentionConfig } from './attention.js';
import { gpujsActualMode } from './context.js';
import { embeddingConfig } from './embedding.js';
import { geluConfig } from './gelu.js';
import { kvWriteConfig } from './kv-write.js';
import { layernormConfig } from './layernorm.js';
import { lmHeadConfig } from './lm-head.js';
import { logSoftmaxConfig } from './log-softmax.js';
import { matmulConfig } from './matmul.js';
import { residualConfig } from './residual.js';
import { rowArgmaxConfig } from './row-argmax.js';

export { GPUJS_MODES, type GpujsMode, type GpujsActualMode, setGpujsMode, gpujsActualMode, gpujsRequestedMode, gpujsPreferred, glDriverKind, compiledKernelCount } from './context.js';

export const gpujsKernels: KernelConfig[] = [
  embeddingConfig, layernormConfig, matmulConfig, geluConfig, residualConfig,
  kvWriteConfig, attentionConfig, lmHeadConfig, logSoftmaxConfig, rowArgmaxConfig,
] as KernelConfig[];

let registered = false;

export function loadGpujsKernels(): string | null {
  try {
    gpujsActualMode(); // loads gpu.js and resolves the mode (env PIPEGPT_GPUJS_MODE, default auto)
  } catch (e) {
    return (e as Error).message;
  }
  if (!registered) {
    for (const k of gpujsKernels) registerKernel(k);
    registered = true;
  }
  return null;
}
