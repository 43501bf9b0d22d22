// The reference backend: plain TypeScript loops, the oracle every other backend is tested against.
import type { KernelSet } from '../names.js';
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

export const referenceKernels: KernelSet = {
  embedding, layernorm, rmsnorm, matmul, gelu, swiglu, residual, rope, kvWrite, attention, lmHead, logSoftmax, rowArgmax, matmulQ8, quantizeRowsQ8, matmulQ8Rows, matmul16, embeddingQ8,
};
