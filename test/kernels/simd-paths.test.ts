// Outputs across CPU kinds (issue #12): every native SIMD path with FMA (avx2-fma, avx512-vnni,
// amx-int8 — whichever this CPU has) must give the same bits as avx2-fma for the f32 and 16-bit
// matmuls (the same FMA chain per element whatever the register width or tile), and every path,
// portable included, the same bits for the int8 ops. amx-int8-sim (amx-int8's kernel on a software
// model of the tiles) runs on every AVX-512 VNNI machine, so the tile kernel is checked without
// AMX. Shapes cover each tile height (1..12 rows of a row block; 16-row AMX groups and leftovers),
// partial column groups (1..31 columns past the last full 32) and both blockings (≤ 32 rows:
// 32-deep slabs; more: 256 × 256 blocks), whole and on column shards; then a whole model's logits
// in f32 and int8 on each path; and layernorm (one f64 recipe compiled per ISA) on every path.
import { createHash } from 'node:crypto';
import test from 'ava';
import { rand } from '../helpers/naive-ops.js';
import { naiveQuantize } from '../helpers/naive-quant.js';
import { ckptDir } from '../helpers/paths.js';
import { backendStatus, registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import { NATIVE_SIMD_PATHS, setNativeSimd } from '../../src/kernels/native/index.js';
import type { NativeSimdPath } from '../../src/kernels/native/addon.js';
import { sequenceLogits } from '../../src/engine/score.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';

registerAllKernels();
const native = backendStatus().find((b) => b.name === 'native'), why = native?.available ? null : native?.reason ?? 'no native backend';
const have = why ? [] : NATIVE_SIMD_PATHS.filter((p) => { try { setNativeSimd(p); return true; } catch { return false; } finally { setNativeSimd('default'); } });
const FMA = have.filter((p) => p !== 'portable');
// a digest of the bits: a mismatch then reports in a line (ava's diff of two long strings takes minutes)
const bits = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** fn's result (as bits) on each path */
function onEach<T>(paths: readonly NativeSimdPath[], fn: () => T): Map<NativeSimdPath, T> {
  const out = new Map<NativeSimdPath, T>();
  for (const p of paths) {
    setNativeSimd(p);
    try { out.set(p, fn()); } finally { setNativeSimd('default'); }
  }
  return out;
}

const SHAPES: Array<[number, number, number]> = [[5, 33, 1], [9, 40, 17], [12, 300, 31], [13, 64, 33], [25, 70, 47], [32, 300, 300], [33, 33, 63], [70, 300, 97]];

(why || FMA.length < 2 ? test.skip : test)(`matmul and matmul16 give the same bits on every FMA path (${FMA.join(', ') || why})`, (t) => {
  const k = kernelSet('native');
  for (const [n, I, O] of SHAPES) {
    const x = rand(n * I, n + I, 1), w = rand(I * O, O, 0.3), b = rand(O, 3, 0.1);
    const w16 = Uint16Array.from(new Uint32Array(w.buffer), (u) => u >>> 16);
    const j0 = Math.floor(O / 3), j1 = O, shard = new Float32Array(I * (j1 - j0));
    for (let i = 0; i < I; i++) shard.set(w.subarray(i * O + j0, i * O + j1), i * (j1 - j0));
    const got = onEach(FMA, () => {
      const a = new Float32Array(n * O), c = new Float32Array(n * O), s = new Float32Array(n * O);
      k.matmul(a, x, w, b, n, I, O); k.matmul16(c, x, w16, 'bf16', null, n, I, O); k.matmul(s, x, shard, b, n, I, O, j0, j1);
      return [bits(a), bits(c), bits(s)];
    });
    for (const p of FMA) t.deepEqual(got.get(p), got.get('avx2-fma'), `${p} ${n}x${I}x${O}`);
  }
});

(why || have.length < 2 ? test.skip : test)(`matmulQ8 and embeddingQ8 give the same bits on every path (${have.join(', ') || why})`, (t) => {
  const k = kernelSet('native');
  for (const [n, I, O] of SHAPES) {
    const x = rand(n * I, n, 2), { q, d } = naiveQuantize(rand(O * I, I, 0.4), O, I), b = rand(O, 5, 0.2);
    const tok = Int32Array.from({ length: n }, (_, i) => (i * 7) % O);
    const got = onEach(have, () => {
      const a = new Float32Array(n * O), e = new Float32Array(n * I);
      k.matmulQ8(a, x, q, d, b, n, I, O); k.embeddingQ8(e, tok, tok, q, d, null, n, I);
      return [bits(a), bits(e)];
    });
    for (const p of have) t.deepEqual(got.get(p), got.get(have[0]), `${p} ${n}x${I}x${O}`);
  }
});

(why || have.length < 2 ? test.skip : test)(`layernorm gives the same bits on every path, portable included (${have.join(', ') || why})`, (t) => {
  const k = kernelSet('native');
  for (const C of [1, 7, 15, 16, 17, 33, 100, 768, 1000]) {
    const n = 5, x = rand(n * C, C, 3), w = rand(C, C + 1, 1), b = rand(C, C + 2, 0.5);
    x[0] = 1e6;  // a large value: the partial sums' order shows in the low bits
    const got = onEach(have, () => {
      const out = new Float32Array(n * C), inPlace = x.slice();
      k.layernorm(out, x, w, b, n, C, 1e-5);
      k.layernorm(inPlace, inPlace, w, b, n, C, 1e-5);
      return [bits(out), bits(inPlace)];
    });
    for (const p of have) t.deepEqual(got.get(p), got.get('portable'), `${p} C ${C}`);
    t.is(got.get('portable')![1], got.get('portable')![0], `in place, C ${C}`);
  }
});

(why || FMA.length < 2 ? test.skip : test)('a model\'s logits (f32 and int8, GPT-2 and Llama) are the same bits on every FMA path', (t) => {
  const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 500);
  for (const name of ['f32', 'llama-smollm2']) for (const quantization of ['none', 'int8'] as const) {
    const got = onEach(FMA, () => sequenceLogits(LocalEngine.open(ckptDir(name), { backend: 'native', quantization }), ids).map(bits).join());
    for (const p of FMA) t.is(got.get(p), got.get('avx2-fma'), `${name} ${quantization} on ${p}`);
  }
});
