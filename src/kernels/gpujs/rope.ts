// gpu.js rotary embedding (HF rotate_half), optionally with Qwen3's per-head q/k RMSNorm first.
// One thread per element of the q and k heads of a row ([n, (NH + NKV)·D], which are contiguous at
// the start of a qkv row): it normalizes its head (Σx² over D when a norm is given), then rotates
// its element with its partner i ± D/2. A kernel cannot write into qkv, so the host copies the
// heads of the range back (query heads [h0, h1), key heads [⌊h0/G⌋, ⌈h1/G⌉)); v is never touched.
import type { KernelSet, RopeArgs } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const SOURCE = `function (qkv, positions, cosT, sinT, qn, kn, eps) {
  ${rowCol('this.constants.HW')}
  const D = this.constants.D;
  const half = this.constants.half;
  let hh = Math.floor(c / D);
  if (c - hh * D < 0) { hh = hh - 1; }
  if (c - hh * D >= D) { hh = hh + 1; }
  const i = c - hh * D;
  const base = hh * D;
  let partner = i + half;
  let f = i;
  let sgn = -1;
  if (i >= half) {
    partner = i - half;
    f = i - half;
    sgn = 1;
  }
  let useN = this.constants.KN;
  if (hh < this.constants.NH) {
    useN = this.constants.QN;
  }
  let own = qkv[r][base + i];
  let other = qkv[r][base + partner];
  if (useN > 0) {
    let ss = 0;
    for (let k = 0; k < D; k++) {
      ss += qkv[r][base + k] * qkv[r][base + k];
    }
    const s = 1 / Math.sqrt(ss / D + eps);
    let wo = kn[i];
    let wp = kn[partner];
    if (hh < this.constants.NH) {
      wo = qn[i];
      wp = qn[partner];
    }
    own = wo * (own * s);
    other = wp * (other * s);
  }
  const p = positions[r];
  return own * cosT[p][f] + sgn * (other * sinT[p][f]);
}`;

const ones = new Map<number, Float32Array>();
function onesOf(D: number): Float32Array {
  let a = ones.get(D);
  if (!a) ones.set(D, (a = new Float32Array(D).fill(1)));
  return a;
}

export const rope: KernelSet['rope'] = (a: RopeArgs) => {
  const { n, nHead: NH, nKvHead: NKV, headDim: D } = a;
  if (n === 0) return;
  const half = D / 2, W = (NH + 2 * NKV) * D, HW = (NH + NKV) * D, G = NH / NKV, nb = bucket(n);
  const h0 = a.h0 ?? 0, h1 = a.h1 ?? NH;
  if (h1 === h0) return;
  const P = Math.floor(Math.min(a.cos.length, a.sin.length) / half);
  const QN = a.qNorm ? 1 : 0, KN = a.kNorm ? 1 : 0;
  const k = kernelFor(`rope|${nb}|${NH}|${NKV}|${D}|${P}|${QN}|${KN}`, SOURCE, nb * HW, { HW, D, half, NH, QN, KN });
  const qkv = as2d(padded('rope.qkv', a.qkv, n * W, nb * W), W, nb);
  const positions = padded('rope.positions', a.positions, n, nb, 0);
  const qn = a.qNorm ? a.qNorm.subarray(0, D) : onesOf(D), kn = a.kNorm ? a.kNorm.subarray(0, D) : onesOf(D);
  const r = runKernel(k, qkv, positions, as2d(a.cos, half, P), as2d(a.sin, half, P), qn, kn, a.eps);
  const g0 = Math.floor(h0 / G), g1 = Math.ceil(h1 / G); // the k heads that query heads [h0, h1) read
  for (let i = 0; i < n; i++) {
    a.qkv.set(r.subarray(i * HW + h0 * D, i * HW + h1 * D), i * W + h0 * D);
    a.qkv.set(r.subarray(i * HW + (NH + g0) * D, i * HW + (NH + g1) * D), i * W + (NH + g0) * D);
  }
};
