// Reference matmulQ8 and matmul16 (contract: names.ts). matmulQ8 computes exactly the recipe of
// the contract in f32 (Math.fround after every float op), so the native paths must match it bit
// for bit; matmul16 is the reference matmul's loop reading widened 16-bit weights.
import type { KernelSet } from '../names.js';
import { Q8_BLOCK, f16Table32, q8Blocks, quantizeQ8 } from '../quant.js';

const f = Math.fround;

export const quantizeRowsQ8: KernelSet['quantizeRowsQ8'] = (xq, xd, inp, n, I) => quantizeQ8(xq, xd, inp, n, I);

export const matmulQ8Rows: KernelSet['matmulQ8Rows'] = (out, xq, xd, wq, ws, bias, n, I, O, j0 = 0, j1 = O) => {
  const nb = q8Blocks(I);
  for (let r = 0; r < n; r++) {
    const xr = r * I, dr = r * nb;
    for (let j = j0; j < j1; j++) {
      const wr = (j - j0) * I, sr = (j - j0) * nb;
      let s = 0;
      for (let b = 0; b < nb; b++) {
        let dot = 0;
        for (let k = b * Q8_BLOCK, e = Math.min(I, k + Q8_BLOCK); k < e; k++) dot += xq[xr + k] * wq[wr + k];
        s = f(s + f(f(xd[dr + b] * ws[sr + b]) * dot));  // |dot| ≤ 32·127² < 2^24: exact in f32
      }
      out[r * O + j] = bias ? f(bias[j] + s) : s;
    }
  }
};

export const matmulQ8: KernelSet['matmulQ8'] = (out, inp, wq, ws, bias, n, I, O, j0 = 0, j1 = O) => {
  const xq = new Int8Array(n * I), xd = new Float32Array(n * q8Blocks(I));
  quantizeRowsQ8(xq, xd, inp, n, I);
  matmulQ8Rows(out, xq, xd, wq, ws, bias, n, I, O, j0, j1);
};

// w [I, W = j1 - j0] 16-bit; same loop order and accumulation as reference/matmul.ts
export const matmul16: KernelSet['matmul16'] = (out, inp, w, kind, bias, n, I, O, j0 = 0, j1 = O) => {
  const W = j1 - j0;
  const t = kind === 'f16' ? f16Table32() : null;
  const bits = new Uint32Array(1), val = new Float32Array(bits.buffer);
  const at = t ? (i: number) => t[w[i]] : (i: number) => ((bits[0] = w[i] << 16), val[0]);
  const row = new Float32Array(W);
  for (let r = 0; r < n; r++) {
    const o = r * O, x = r * I;
    for (let j = j0; j < j1; j++) out[o + j] = bias ? bias[j] : 0;
    for (let k = 0; k < I; k++) {
      const a = inp[x + k], wk = k * W;
      for (let j = 0; j < W; j++) row[j] = at(wk + j);
      for (let j = j0; j < j1; j++) out[o + j] += a * row[j - j0];
    }
  }
};
