// gpu.js embedding: out[r] = wte[tokens[r]] + wpe[positions[r]] (wpe null: wte[tokens[r]]).   [n] → [n, C]
// Padding rows use token 0 / position 0 (valid rows) and are dropped. embeddingQ8: the same from Q8
// rows (q · d, then + wpe; computed in f64 in cpu/webasm modes and rounded once, so within 1 ulp).
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';
import { wqFloat } from './matmul-quant.js';

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

const SOURCE_Q8 = `function (tokens, positions, wq, ws, wpe) {
  ${rowCol('this.constants.C')}
  const t = tokens[r];
  const v = wq[t][c] * ws[t][Math.floor(c / 32)];
  if (this.constants.POS === 0) return v;
  return v + wpe[positions[r]][c];
}`;

export const embeddingQ8: KernelSet['embeddingQ8'] = (out, tokens, positions, wq, ws, wpe, n, C) => {
  if (n === 0) return;
  const nb = bucket(n), V = Math.floor(wq.length / C), NB = Math.ceil(C / 32), Ip = NB * 32;
  const P = wpe ? Math.floor(wpe.length / C) : 1;
  const k = kernelFor(`embeddingQ8|${nb}|${C}|${V}|${P}|${wpe ? 1 : 0}`, SOURCE_Q8, nb * C, { C, POS: wpe ? 1 : 0 });
  const pos = wpe ? as2d(wpe, C, P) : as2d(new Float32Array(C), C, 1);
  const r = runKernel(k, padded('embedding.tokens', tokens, n, nb), padded('embedding.positions', positions, n, nb), as2d(wqFloat(wq, V, C, Ip), Ip, V), as2d(ws, NB, V), pos);
  out.set(r.subarray(0, n * C));
};
