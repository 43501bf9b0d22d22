// gpu.js rowArgmax.   [m, V] → idx [m], max [m]
// One thread per (row, chunk of CH columns) finds the first index of the chunk's largest non-NaN
// value (-1 if none); the host then merges a row's chunks in order against x[0] with the same
// strict comparison, which gives exactly the scalar definition (names.ts). Chunks keep each
// thread under llvmpipe's 65535 loop iterations (see log-softmax.ts).
import type { KernelSet } from '../names.js';
import { as2d, bucket, kernelFor, padded, rowCol, runKernel } from './context.js';

const CH = 2048;

// output [mb · NC]: cell (r, chunk c) → index in the row, or -1
const CHUNK_ARGMAX = `function (x) {
  ${rowCol('this.constants.NC')}
  const k0 = c * this.constants.CH;
  const k1 = Math.min(k0 + this.constants.CH, this.constants.V);
  let at = -1;
  let best = 0;
  for (let k = k0; k < k1; k++) {
    const v = x[r][k];
    if (v === v && (at < 0 || v > best)) {
      best = v;
      at = k;
    }
  }
  return at;
}`;

export const rowArgmax: KernelSet['rowArgmax'] = (idx, max, inp, m, V, ld = V) => {
  if (m === 0) return;
  if (ld !== V) { // rows of wider rows: compacted first (this backend is for correctness, not speed)
    const rows = new Float32Array(m * V);
    for (let r = 0; r < m; r++) rows.set(inp.subarray(r * ld, r * ld + V), r * V);
    inp = rows;
  }
  const mb = bucket(m), NC = Math.ceil(V / CH);
  const x = as2d(padded('rowArgmax.inp', inp, m * V, mb * V), V, mb);
  const chunks = runKernel(kernelFor(`rowArgmax|${mb}|${V}`, CHUNK_ARGMAX, mb * NC, { V, CH, NC }), x);
  for (let r = 0; r < m; r++) {
    const o = r * V;
    let best = inp[o], at = 0;
    if (best === best) {
      for (let c = 0; c < NC; c++) {
        const k = chunks[r * NC + c];
        if (k >= 0 && inp[o + k] > best) { best = inp[o + k]; at = k; }
      }
    }
    idx[r] = at;
    max[r] = best;
  }
};

