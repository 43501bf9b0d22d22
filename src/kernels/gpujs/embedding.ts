// gpu.js embedding: out[r] = wte[tokens[r]] + wpe[positions[r]].   [n] → [n, C]
// Padding rows use token 0 / position 0 (valid rows) and are dropped.
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (tokens, positions, wte, wpe) {
  ${rowCol('this.constants.C')}
  return wte[tokens[r]][c] + wpe[positions[r]][c];
}`;

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => {
  if (n === 0) return;
  const nb = bucket(n), V = Math.floor(wte.length / C), P = Math.floor(wpe.length / C);
  const k = kernelFor(`embedding|${nb}|${C}|${V}|${P}`, SOURCE, nb * C, { C });
  const r = runKernel(k, padded('embedding.tokens', tokens, n, nb), padded('embedding.positions', positions, n, nb), as2d(wte, C, V), as2d(wpe, C, P));
  out.set(r.subarray(0, n * C));
};

export const embeddingConfig: KernelConfig<'embedding'> = { backend: 'gpujs', op: 'embedding', fn: embedding };
