// The f16 KV cache (kv_cache_dtype float16; names.ts KvCache) on every backend and every native
// SIMD path: kvWrite rounds each k/v value to nearest even (checked against test/helpers'
// value-arithmetic rounding and against the reference backend's bits). (Attention over it:
// ops-kv-attention.test.ts.)
import test from 'ava';
import type { KernelSet } from '../../src/kernels/names.js';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { forEachBackend } from '../helpers/backends.js';
import { rand } from '../helpers/naive-ops.js';
import { f16Values, naiveF16Round } from '../helpers/naive-quant.js';


// ties to even (1 + 2^-11, 1 + 3·2^-11), subnormals and their ties (2^-25, 3·2^-25), underflow,
// the largest finite, overflow at 65520, infinities, -0, NaN
const SPECIAL = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 2 ** -25, 3 * 2 ** -25, 2 ** -24, 5e-8, 2 ** -26, 1e-30, 6.1e-5,
  65504, 65519, 65520, -65520, 1e6, Infinity, -Infinity, -0, 0, NaN, 2 ** -14, 2 ** -14 - 2 ** -25, 0.1, -3.14159];

/** qkv rows [n, qDim + 2·kvDim] whose k|v parts hold SPECIAL and random values of several scales. */
function kvRows(n: number, qDim: number, kvDim: number): Float32Array {
  const W = qDim + 2 * kvDim, qkv = rand(n * W, 120, 1);
  const scaled = [rand(n * W, 121, 1e-6), rand(n * W, 122, 3e4), rand(n * W, 123, 1e-3)];
  for (let i = 0; i < n * W; i++) if (i % 4 !== 3) qkv[i] = scaled[i % 3][i];
  SPECIAL.forEach((v, i) => { qkv[(i % n) * W + qDim + ((i * 7) % (2 * kvDim))] = v; });
  return qkv;
}

forEachBackend('kvWrite into an f16 cache rounds every value to nearest even (ties, subnormals, ±inf), only in its channels, with the reference\'s bits', (t, k) => {
  const qDim = 24, kvDim = 19, W = qDim + 2 * kvDim, n = 5, qkv = kvRows(n, qDim, kvDim), slots = Int32Array.from([6, 0, 3, 7, 1]);
  registerAllKernels();
  const ref = kernelSet('reference');
  for (const [c0, c1] of [[0, kvDim], [3, 13], [8, 16], [19, 19]]) {
    const kc = new Uint16Array(8 * kvDim).fill(0x1234), vc = new Uint16Array(8 * kvDim).fill(0x1234);
    k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim, c0, c1);
    const [kw, vw] = [f16Values(kc), f16Values(vc)];
    for (let s = 0; s < 8; s++) {
      const r = slots.indexOf(s);
      for (let c = 0; c < kvDim; c++) {
        const i = s * kvDim + c, inRange = r >= 0 && c >= c0 && c < c1;
        if (!inRange) { t.true(kc[i] === 0x1234 && vc[i] === 0x1234, `slot ${s} channel ${c} [${c0}, ${c1}) written`); continue; }
        const [wk, wv] = [naiveF16Round(qkv[r * W + qDim + c]), naiveF16Round(qkv[r * W + qDim + kvDim + c])];
        t.true(Object.is(kw[i], wk), `k slot ${s} channel ${c}: ${qkv[r * W + qDim + c]} → ${kw[i]}, want ${wk}`);
        t.true(Object.is(vw[i], wv), `v slot ${s} channel ${c}: ${qkv[r * W + qDim + kvDim + c]} → ${vw[i]}, want ${wv}`);
      }
    }
    const rk = new Uint16Array(8 * kvDim).fill(0x1234), rv = new Uint16Array(8 * kvDim).fill(0x1234);
    ref.kvWrite(qkv, rk, rv, slots, n, qDim, kvDim, c0, c1);
    t.deepEqual(Array.from(kc), Array.from(rk), `k bits = reference [${c0}, ${c1})`);
    t.deepEqual(Array.from(vc), Array.from(rv), `v bits = reference [${c0}, ${c1})`);
  }
}, { allSimd: true });

test('a Float32Array k cache with a Uint16Array v cache is refused by the native addon', (t) => {
  registerAllKernels();
  let k: KernelSet;
  try { k = kernelSet('native'); } catch { t.pass('native backend unavailable'); return; }
  const qkv = new Float32Array(3 * 8);
  t.throws(() => k.kvWrite(qkv, new Float32Array(8), new Uint16Array(8), Int32Array.from([0]), 1, 8, 8), { message: /vCache must be a Float32Array/ });
});
