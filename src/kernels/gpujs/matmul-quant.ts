// gpu.js matmulQ8 (= quantizeRowsQ8 + matmulQ8Rows) and matmul16. Activation rows are quantized
// in JS (quant.ts, the one definition); one thread per output element sums each 32-block's
// products (integers below 2^24, so exact in f32 in any order) and combines the blocks in
// increasing b, like the reference. In "cpu"/"webasm" modes gpu.js computes that combination in
// f64 and rounds once at the end, so the bits can differ from the f32 reference in the last places
// (tests allow 1e-5 there).
// matmul16: the weights widened once (cached per weight array: weights are immutable after load)
// and the gpu.js matmul run on them, so results are those of matmul exactly.
import type { KernelSet } from '../names.js';
import { Q8_BLOCK, q8Blocks, quantizeQ8, widen16 } from '../quant.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';
import { matmul } from './matmul.js';

const SOURCE_Q8 = `function (xq, xd, wq, ws, bias) {
  ${rowCol('this.constants.W')}
  let s = 0;
  for (let b = 0; b < this.constants.NB; b++) {
    let dot = 0;
    for (let k = 0; k < 32; k++) {
      dot += xq[r][b * 32 + k] * wq[c][b * 32 + k];
    }
    s += (xd[r][b] * ws[c][b]) * dot;
  }
  return bias[this.constants.J0 + c] + s;
}`;

// wq rows as f32, zero-padded to whole blocks: [W, nb·32]
const wqCache = new WeakMap<Int8Array, Float32Array>();
export function wqFloat(wq: Int8Array, W: number, I: number, Ip: number): Float32Array {
  let f = wqCache.get(wq);
  if (!f || f.length !== W * Ip) {
    f = new Float32Array(W * Ip);
    for (let j = 0; j < W; j++) for (let k = 0; k < I; k++) f[j * Ip + k] = wq[j * I + k];
    wqCache.set(wq, f);
  }
  return f;
}

const zeroRows = new Map<number, Float32Array>();
const zeros = (O: number) => zeroRows.get(O) ?? (zeroRows.set(O, new Float32Array(O)), zeroRows.get(O)!);

export const quantizeRowsQ8: KernelSet['quantizeRowsQ8'] = (xq, xd, inp, n, I) => quantizeQ8(xq, xd, inp, n, I);

export const matmulQ8Rows: KernelSet['matmulQ8Rows'] = (out, xq8, xd8, wq, ws, bias, n, I, O, j0 = 0, j1 = O) => {
  const W = j1 - j0;
  if (n === 0 || W === 0) return;
  const nb = q8Blocks(I), Ip = nb * Q8_BLOCK, mb = bucket(n);
  const xd = new Float32Array(mb * nb), xq = new Float32Array(mb * Ip);
  xd.set(xd8.subarray(0, n * nb));
  for (let r = 0; r < n; r++) for (let k = 0; k < I; k++) xq[r * Ip + k] = xq8[r * I + k];
  const k = kernelFor(`matmulQ8|${mb}|${I}|${O}|${j0}|${W}`, SOURCE_Q8, mb * W, { W, NB: nb, J0: j0 });
  const b = bias ? (bias.length === O ? bias : bias.subarray(0, O)) : zeros(O);  // s is never -0, so 0 + s = s
  const res = runKernel(k, as2d(xq, Ip, mb), as2d(xd, nb, mb), as2d(wqFloat(wq, W, I, Ip), Ip, W), as2d(padded('matmulQ8.ws', ws, W * nb, W * nb), nb, W), b);
  if (W === O) out.set(res.subarray(0, n * O));
  else for (let i = 0; i < n; i++) out.set(res.subarray(i * W, (i + 1) * W), i * O + j0);
};

export const matmulQ8: KernelSet['matmulQ8'] = (out, inp, wq, ws, bias, n, I, O, j0 = 0, j1 = O) => {
  const xq = new Int8Array(n * I), xd = new Float32Array(n * q8Blocks(I));
  quantizeRowsQ8(xq, xd, inp.subarray(0, n * I), n, I);
  matmulQ8Rows(out, xq, xd, wq, ws, bias, n, I, O, j0, j1);
};

const w16Cache = new WeakMap<Uint16Array, { kind: string; f: Float32Array }>();

export const matmul16: KernelSet['matmul16'] = (out, inp, w, kind, bias, n, I, O, j0 = 0, j1 = O) => {
  const len = I * (j1 - j0);
  let c = w16Cache.get(w);
  if (!c || c.kind !== kind || c.f.length !== len) {
    c = { kind, f: new Float32Array(len) };
    widen16(c.f, w.subarray(0, len), kind);
    w16Cache.set(w, c);
  }
  matmul(out, inp, c.f, bias, n, I, O, j0, j1);
};
