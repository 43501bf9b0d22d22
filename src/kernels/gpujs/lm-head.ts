// gpu.js tied LM head: logits[r, v] = Σ_c inp[r, c] · wte[v, c].   [m, C] → [m, V]
// One thread per logit, c summed in order (rows independent). wte is read as a 2-D [V][C] input so
// that indices stay integer-exact past 2^24 elements (50257 × 768 > 2^24).
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (inp, wte) {
  ${rowCol('this.constants.V')}
  let s = 0;
  for (let k = 0; k < this.constants.C; k++) {
    s += inp[r][k] * wte[c][k];
  }
  return s;
}`;

export const lmHead: KernelSet['lmHead'] = (out, inp, wte, m, C, V, ldo = V) => {
  if (m === 0) return;
  const mb = bucket(m);
  const k = kernelFor(`lmHead|${mb}|${C}|${V}`, SOURCE, mb * V, { C, V });
  const x = padded('lmHead.inp', inp, m * C, mb * C);
  const r = runKernel(k, as2d(x, C, mb), as2d(wte, C, V));
  if (ldo === V) out.set(r.subarray(0, m * V));
  else for (let i = 0; i < m; i++) out.set(r.subarray(i * V, (i + 1) * V), i * ldo);
};

