// The q8 KV cache (kv_cache_dtype int8; names.ts KvCache, quant.ts Q8 KV rows) on every backend and
// every native SIMD path: kvWrite writes each 32-channel block as [f32 d | 32 int8] with the bytes of
// test/helpers' naive quantizer (and the reference backend's), only in its channels; the native
// addon refuses what it cannot address. (Attention over it: ops-kv-attention.test.ts.)
import test from 'ava';
import type { KernelSet } from '../../src/kernels/names.js';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { forEachBackend } from '../helpers/backends.js';
import { rand } from '../helpers/naive-ops.js';
import { naiveQuantize } from '../helpers/naive-quant.js';

const BLOCK = 36; // bytes per 32 channels: f32 scale, 32 int8


/** qkv rows whose k|v parts mix scales, zeros, a block of one value, exact halves of d and the block maximum. */
function kvRows(n: number, qDim: number, kvDim: number): Float32Array {
  const W = qDim + 2 * kvDim, qkv = rand(n * W, 220, 1);
  const scaled = [rand(n * W, 221, 1e-6), rand(n * W, 222, 3e4), rand(n * W, 223, 1e-3)];
  for (let i = 0; i < n * W; i++) if (i % 5 !== 4) qkv[i] = scaled[(i >> 5) % 3][i];
  for (let c = 0; c < 32; c++) qkv[qDim + c] = 0;                 // row 0, k block 0: all zero (d = 0)
  for (let c = 32; c < 64; c++) qkv[W + qDim + c] = -2.5;          // row 1, k block 1: one value
  const half = 127 / 254;                                          // row 2, v block 0: values at q + 1/2 of d
  for (let c = 0; c < 32; c++) qkv[2 * W + qDim + kvDim + c] = c === 0 ? 127 : (c % 7 === 0 ? -1 : 1) * (c + half);
  return qkv;
}

forEachBackend('kvWrite into a q8 cache writes each 32-channel block as the naive quantizer does, only in its channels, with the reference\'s bytes', (t, k) => {
  const qDim = 24, kvDim = 96, W = qDim + 2 * kvDim, n = 5, qkv = kvRows(n, qDim, kvDim), slots = Int32Array.from([6, 0, 3, 7, 1]);
  const rb = (kvDim / 32) * BLOCK;
  registerAllKernels();
  const ref = kernelSet('reference');
  for (const [c0, c1] of [[0, kvDim], [32, 64], [64, 96], [32, 32]]) {
    const kc = new Int8Array(8 * rb).fill(0x12), vc = new Int8Array(8 * rb).fill(0x12);
    k.kvWrite(qkv, kc, vc, slots, n, qDim, kvDim, c0, c1);
    for (const [cache, part] of [[kc, 0], [vc, kvDim]] as const) {
      const dv = new DataView(cache.buffer);
      for (let s = 0; s < 8; s++) for (let b = 0; b < kvDim / 32; b++) {
        const r = slots.indexOf(s), at = s * rb + b * BLOCK, label = `${part ? 'v' : 'k'} slot ${s} block ${b} [${c0}, ${c1})`;
        if (r < 0 || b * 32 < c0 || b * 32 >= c1) { t.true(cache.subarray(at, at + BLOCK).every((x) => x === 0x12), `${label} written`); continue; }
        const want = naiveQuantize(qkv.slice(r * W + qDim + part + b * 32, r * W + qDim + part + b * 32 + 32), 1, 32);
        t.is(dv.getFloat32(at, true), want.d[0], `${label} scale`);
        t.deepEqual(Array.from(cache.subarray(at + 4, at + BLOCK)), Array.from(want.q), `${label} values`);
      }
    }
    const rk = new Int8Array(8 * rb).fill(0x12), rv = new Int8Array(8 * rb).fill(0x12);
    ref.kvWrite(qkv, rk, rv, slots, n, qDim, kvDim, c0, c1);
    t.deepEqual(Array.from(kc), Array.from(rk), `k bytes = reference [${c0}, ${c1})`);
    t.deepEqual(Array.from(vc), Array.from(rv), `v bytes = reference [${c0}, ${c1})`);
  }
}, { allSimd: true });

test('the native addon refuses a q8 cache it cannot address: channels off the 32-blocks, a mixed pair, a slot past the end, a misaligned start', (t) => {
  registerAllKernels();
  let k: KernelSet;
  try { k = kernelSet('native'); } catch { t.pass('native backend unavailable'); return; }
  const qkv = new Float32Array(3 * 64), c = () => new Int8Array(2 * 2 * BLOCK), one = Int32Array.from([0]);
  t.throws(() => k.kvWrite(qkv, c(), c(), one, 1, 64, 48), { message: /NKV·D a multiple of 32/ });
  t.throws(() => k.kvWrite(qkv, c(), c(), one, 1, 64, 64, 16, 64), { message: /c0 and c1 must be multiples of 32/ });
  t.throws(() => k.kvWrite(qkv, c(), new Float32Array(128), one, 1, 64, 64), { message: /vCache must be a Int8Array|vCache must be an Int8Array/ });
  t.throws(() => k.kvWrite(qkv, c(), c(), Int32Array.from([2]), 1, 64, 64), { message: /slot out of range/ });
  t.throws(() => k.kvWrite(qkv, new Int8Array(new ArrayBuffer(4 * BLOCK + 2), 2), c(), one, 1, 64, 64), { message: /start at a multiple of 4 bytes/ });
  k.kvWrite(qkv, c(), c(), Int32Array.from([1]), 1, 64, 64);
  t.pass();
});
