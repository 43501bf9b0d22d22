// gpu.js embedding: out[r] = wte[tokens[r]] + wpe[positions[r]] (wpe null: wte[tokens[r]]).   [n] → [n, C]
// Padding rows use token 0 / position 0 (valid rows) and are dropped.
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (tokens, positions, wte, wpe) {
  ${rowCol('this.constants.C')}
  return wte[tokens[r]][c] + wpe[positions[r]][c];
}`;

const TOKENS_ONLY = `function (tokens, wte) {
  ${rowCol('this.constants.C')}
  return wte[tokens[r]][c];
}`;

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => {
  if (n === 0) return;
  const nb = bucket(n), V = Math.floor(wte.length / C);
  const tok = padded('embedding.tokens', tokens, n, nb);
  let r: Float32Array;
  if (!wpe) {
    r = runKernel(kernelFor(`embedding.tokens|${nb}|${C}|${V}`, TOKENS_ONLY, nb * C, { C }), tok, as2d(wte, C, V));
  } else {
    const P = Math.floor(wpe.length / C);
    const k = kernelFor(`embedding|${nb}|${C}|${V}|${P}`, SOURCE, nb * C, { C });
    r = runKernel(k, tok, padded('embedding.positions', positions, n, nb), as2d(wte, C, V), as2d(wpe, C, P));
  }
  out.set(r.subarray(0, n * C));
};
