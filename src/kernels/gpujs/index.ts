// The gpujs kernel backend: the KernelSet written as gpu.js kernels (see docs/gpujs.md).
// loadGpujsKernels() registers its kernels and returns null, or returns why it cannot load.
// It registers even when gpu.js only runs on the CPU here (webasm/cpu, or headless-gl on a software
// rasterizer) so tests and `--backend gpujs` work; gpujsPreferred() tells `auto` whether to pick it.
import type { KernelSet } from '../names.js';
import { registerKernelSet } from '../registry.js';
import { attention } from './attention.js';
import { gpujsActualMode } from './context.js';
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

export { GPUJS_MODES, type GpujsMode, type GpujsActualMode, setGpujsMode, gpujsActualMode, gpujsRequestedMode, gpujsPreferred, glDriverKind, compiledKernelCount } from './context.js';

export const gpujsKernels: KernelSet = {
  embedding, layernorm, rmsnorm, matmul, gelu, swiglu, residual, rope, kvWrite, attention, lmHead, logSoftmax, rowArgmax, matmulQ8, quantizeRowsQ8, matmulQ8Rows, matmul16, embeddingQ8,
};

let registered = false;

export function loadGpujsKernels(): string | null {
  try {
    gpujsActualMode(); // loads gpu.js and resolves the mode (env PIPEGPT_GPUJS_MODE, default auto)
  } catch (e) {
    return (e as Error).message;
  }
  if (!registered) {
    registerKernelSet('gpujs', gpujsKernels);
    registered = true;
  }
  return null;
}
