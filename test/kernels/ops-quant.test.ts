// matmulQ8 (whole, and as quantizeRowsQ8 + matmulQ8Rows) and matmul16 (issue #12) on every backend and every native SIMD path this CPU has,
// against naive code in test/helpers/naive-quant.ts. Exact: the Q8 format bytes, matmulQ8 on the
// reference and native backends (the contract's f32 recipe, bit for bit), batch invariance, column
// ranges, matmul16 == matmul on the widened weights. gpujs matmulQ8: max|Δ|/max|ref| ≤ 1e-5 where
// its mode computes in f64 (see src/kernels/gpujs/matmul-quant.ts). Accuracy: within the int8
// error bound of the f64 product with the dequantized weights.
import test from 'ava';
import { forEachBackend } from '../helpers/backends.js';
import { assertClose } from '../helpers/assert-close.js';
import { rand } from '../helpers/naive-ops.js';
import { bf16Values, f16Values, naiveMatmulQ8, naiveQuantize } from '../helpers/naive-quant.js';
import { quantizeQ8 } from '../../src/kernels/quant.js';
import type { KernelSet } from '../../src/kernels/names.js';
import { backendStatus, registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';

const exactQ8 = (backend: string) => backend !== 'gpujs';
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function quantized(O: number, I: number, seed: number, scale = 0.2) {
  const w = rand(O * I, seed, scale), nb = Math.ceil(I / 32), wq = new Int8Array(O * I), ws = new Float32Array(O * nb);
  quantizeQ8(wq, ws, w, O, I);
  return { w, wq, ws, nb };
}

test('quantizeQ8 gives the bytes of the naive f64 quantizer: ties, zeros, short last blocks, huge and tiny values', (t) => {
  // 70 = 2 blocks + 6; a block of zeros; ties: amax 127·2^-3 → d = 2^-3, x = (k + 1/2)·2^-3
  const I = 70, R = 6, w = new Float32Array(R * I);
  w.set(rand(I, 1, 1), 0);
  for (let k = 0; k < 32; k++) w[I + k] = 0;  // row 1 block 0: all zeros → d = 0, q = 0
  for (let k = 0; k < I; k++) w[2 * I + k] = k % 32 === 0 ? 127 / 8 : ((k % 9) - 4.5) / 8;  // exact ties ±0.5
  w.set(rand(I, 2, 3e38), 3 * I);    // huge
  w.set(rand(I, 3, 1e-39), 4 * I);   // subnormal: d may round coarsely or to 0 (clamped to ±127)
  w.set(rand(I, 4, 1e-30), 5 * I);   // tiny normal
  const nb = 3, wq = new Int8Array(R * I), ws = new Float32Array(R * nb);
  quantizeQ8(wq, ws, w, R, I);
  const ref = naiveQuantize(w, R, I);
  t.deepEqual(Array.from(wq), Array.from(ref.q));
  t.deepEqual(bits(ws), bits(ref.d));
  t.is(ws[nb], 0);
  t.true(Array.from(wq.subarray(I, I + 32)).every((q) => q === 0));
  t.deepEqual(Array.from(wq.subarray(2 * I + 1, 2 * I + 10)), [-4, -3, -2, -1, 1, 2, 3, 4, -5], 'ties (k − 4.5 → ±(|k − 4.5| + ½)) round away from zero');
  t.true(Array.from(wq).every((q) => q >= -127 && q <= 127));
});

forEachBackend('matmulQ8 equals the naive recipe (bit for bit off gpujs) and the dequantized product within the int8 bound', (t, k, backend) => {
  for (const [n, I, O] of [[1, 1, 1], [1, 64, 33], [3, 70, 17], [8, 96, 40], [5, 300, 65], [40, 130, 31]]) {
    const { w: _w, wq, ws, nb } = quantized(O, I, I + O);
    const x = rand(n * I, n + 7, 2), b = rand(O, 9, 0.5);
    for (const bias of [b, null]) {
      const out = new Float32Array(n * O).fill(NaN);
      k.matmulQ8(out, x, wq, ws, bias, n, I, O);
      const want = naiveMatmulQ8(x, wq, ws, bias, n, I, O);
      if (exactQ8(backend)) t.deepEqual(bits(out), bits(want), `${n}x${I}x${O} bias ${!!bias}`);
      else assertClose(t, out, want, 1e-5, `${n}x${I}x${O} bias ${!!bias}`);
      // |out - x·ŵ| ≤ Σ_b (d_x,b / 2) Σ_{k∈b} |ŵ| (activation rounding) + 1e-5 Σ |x||ŵ| (float sums)
      const { d: xd } = naiveQuantize(x, n, I);
      for (let r = 0; r < n; r++) for (let j = 0; j < O; j++) {
        let exact = bias ? bias[j] : 0, bound = 0, mag = 0;
        for (let kk = 0; kk < I; kk++) {
          const wh = wq[j * I + kk] * ws[j * nb + Math.floor(kk / 32)];
          exact += x[r * I + kk] * wh;
          bound += (xd[r * nb + Math.floor(kk / 32)] / 2) * Math.abs(wh);
          mag += Math.abs(x[r * I + kk] * wh);
        }
        const err = Math.abs(out[r * O + j] - exact);
        if (!(err <= bound + 1e-5 * mag + 1e-6)) { t.fail(`${n}x${I}x${O} [${r}, ${j}]: |Δ| ${err} > bound ${bound}`); return; }
      }
    }
  }
}, { allSimd: true });

forEachBackend('matmulQ8 rows do not depend on the batch (1..70 rows, every row tile count)', (t, k) => {
  const I = 100, O = 37, { wq, ws } = quantized(O, I, 5), b = rand(O, 6, 0.1), x = rand(70 * I, 8, 1);
  const single: Float32Array[] = [];
  for (let r = 0; r < 70; r++) {
    const one = new Float32Array(O);
    k.matmulQ8(one, x.subarray(r * I, (r + 1) * I), wq, ws, b, 1, I, O);
    single.push(one);
  }
  for (const n of [1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 64, 70]) {
    const all = new Float32Array(n * O);
    k.matmulQ8(all, x.subarray(0, n * I), wq, ws, b, n, I, O);
    for (let r = 0; r < n; r++) {
      if (bits(all.subarray(r * O, (r + 1) * O)).join() !== bits(single[r]).join()) { t.fail(`n = ${n}, row ${r} differs from the row alone`); return; }
    }
  }
  t.pass();
}, { allSimd: true });

forEachBackend('matmulQ8 on a row range [j0, j1) equals those columns of the full call and writes nothing else', (t, k) => {
  for (const [n, I, O] of [[3, 70, 17], [9, 96, 67], [40, 64, 50]]) {
    const { wq, ws, nb } = quantized(O, I, 11), x = rand(n * I, 12, 1), b = rand(O, 13, 0.1);
    const full = new Float32Array(n * O);
    k.matmulQ8(full, x, wq, ws, b, n, I, O);
    for (const [j0, j1] of [[0, Math.floor(O / 2)], [Math.floor(O / 2), O], [5, Math.min(O, 5 + 16)], [7, O - 3], [O, O]]) {
      const part = new Float32Array(n * O).fill(-7);
      k.matmulQ8(part, x, wq.slice(j0 * I, j1 * I), ws.slice(j0 * nb, j1 * nb), b, n, I, O, j0, j1);
      for (let r = 0; r < n; r++) {
        const row = part.slice(r * O, (r + 1) * O);
        t.deepEqual(bits(row.slice(j0, j1)), bits(full.slice(r * O + j0, r * O + j1)), `${n}x${I}x${O} [${j0}, ${j1}) row ${r}`);
        t.true([...row.slice(0, j0), ...row.slice(j1)].every((v) => v === -7), `${n}x${I}x${O} [${j0}, ${j1}) row ${r}: wrote outside`);
      }
    }
  }
}, { allSimd: true });

forEachBackend('quantizeRowsQ8 gives the naive quantizer\'s bytes, and matmulQ8Rows on them the bits of matmulQ8 (several weight blocks, one quantization)', (t, k) => {
  for (const [n, I, O] of [[1, 32, 16], [3, 70, 17], [9, 96, 67], [40, 130, 48], [5, 300, 33]]) {  // whole and short last blocks
    const { wq, ws, nb } = quantized(O, I, I + 3 * O), x = rand(n * I + 5, n + I, 1.5), b = rand(O, 14, 0.1);
    const xq = new Int8Array(n * I + 3).fill(99), xd = new Float32Array(n * nb + 3).fill(-9);  // tails: must stay untouched
    k.quantizeRowsQ8(xq, xd, x, n, I);
    const ref = naiveQuantize(x.subarray(0, n * I), n, I);
    t.deepEqual(Array.from(xq.subarray(0, n * I)), Array.from(ref.q), `${n}x${I}: xq`);
    t.deepEqual(bits(xd.subarray(0, n * nb)), bits(ref.d), `${n}x${I}: xd`);
    t.deepEqual(Array.from(xq.subarray(n * I)), [99, 99, 99], `${n}x${I}: wrote past xq [n, I]`);
    t.deepEqual(Array.from(xd.subarray(n * nb)), [-9, -9, -9], `${n}x${I}: wrote past xd [n, nb]`);
    for (const bias of [b, null]) {
      const whole = new Float32Array(n * O), blocks = new Float32Array(n * O).fill(NaN);
      k.matmulQ8(whole, x, wq, ws, bias, n, I, O);
      const cut = Math.min(O, 16);  // two blocks from the same quantized rows, as a rank's q|k|v
      k.matmulQ8Rows(blocks, xq, xd, wq.subarray(0, cut * I), ws.subarray(0, cut * nb), bias, n, I, O, 0, cut);
      k.matmulQ8Rows(blocks, xq, xd, wq.subarray(cut * I), ws.subarray(cut * nb), bias, n, I, O, cut, O);
      t.deepEqual(bits(blocks), bits(whole), `${n}x${I}x${O} bias ${!!bias}`);
    }
  }
}, { allSimd: true });

// The int8 embedding: each element f32(q · d) — q and d from the naive quantizer, the product
// rounded by a Float32Array store — then one f32 add of the position row.
function naiveEmbeddingQ8(tokens: Int32Array, positions: Int32Array, q: Int8Array, d: Float32Array, wpe: Float32Array | null, C: number): Float32Array {
  const nb = Math.ceil(C / 32), out = new Float32Array(tokens.length * C), one = new Float32Array(1);
  tokens.forEach((tok, r) => {
    for (let c = 0; c < C; c++) {
      one[0] = q[tok * C + c] * d[tok * nb + Math.floor(c / 32)];
      out[r * C + c] = wpe ? one[0] + wpe[positions[r] * C + c] : one[0];
    }
  });
  return out;
}

forEachBackend('embeddingQ8 reads dequantized Q8 rows (+ position rows) bit for bit off gpujs', (t, k, backend) => {
  for (const [V, C, P] of [[50, 13, 20], [300, 70, 9], [7, 64, 4]]) {  // short last block; whole blocks
    const w = rand(V * C, V + C, 0.5), { q, d } = naiveQuantize(w, V, C), wpe = rand(P * C, 3, 0.5);
    const n = 9, tokens = Int32Array.from({ length: n }, (_, i) => (i * 37 + 5) % V), positions = Int32Array.from({ length: n }, (_, i) => (i * 3) % P);
    tokens[n - 1] = V - 1;  // the last row of the table
    for (const pe of [wpe, null]) {
      const out = new Float32Array(n * C).fill(NaN), want = naiveEmbeddingQ8(tokens, positions, q, d, pe, C);
      k.embeddingQ8(out, tokens, positions, q, d, pe, n, C);
      if (exactQ8(backend)) t.deepEqual(bits(out), bits(want), `V ${V} C ${C} wpe ${!!pe}`);
      else assertClose(t, out, want, 1e-6, `V ${V} C ${C} wpe ${!!pe}`);
    }
  }
});

// 16-bit weights: random bit patterns (bf16: the top halves of random f32; f16: any finite pattern,
// subnormals included, plus ±inf where asked)
function weights16(len: number, seed: number, kind: 'bf16' | 'f16', withInf: boolean): Uint16Array {
  const f = rand(len, seed, 0.5), u = new Uint32Array(f.buffer), w = new Uint16Array(len);
  for (let i = 0; i < len; i++) {
    if (kind === 'bf16') w[i] = u[i] >>> 16;
    else { const h = u[i] & 0xffff; w[i] = ((h >> 10) & 31) === 31 ? h & 0x83ff : h; }  // no inf/NaN by chance
    if (kind === 'f16' && i % 13 === 5) w[i] = (u[i] & 0x83ff);  // exponent 0: subnormals (and ±0)
  }
  if (withInf) { w[3] = kind === 'bf16' ? 0x7f80 : 0x7c00; w[len - 2] = kind === 'bf16' ? 0xff80 : 0xfc00; }
  return w;
}

function check16(t: import('ava').ExecutionContext, k: KernelSet, kind: 'bf16' | 'f16', n: number, I: number, O: number, withInf: boolean): void {
  const w = weights16(I * O, I + O + n, kind, withInf), wf = kind === 'bf16' ? bf16Values(w) : f16Values(w);
  const x = rand(n * I, 21, 1), b = rand(O, 22, 0.1);
  const want = new Float32Array(n * O), got = new Float32Array(n * O);
  k.matmul(want, x, wf, b, n, I, O);
  k.matmul16(got, x, w, kind, b, n, I, O);
  t.deepEqual(bits(got), bits(want), `${kind} ${n}x${I}x${O}`);
  for (const [j0, j1] of [[0, Math.floor(O / 2)], [Math.min(3, O), Math.max(Math.min(3, O), O - 1)], [O, O]]) {
    const W = j1 - j0, shard = new Uint16Array(I * W), part = new Float32Array(n * O).fill(-7);
    for (let i = 0; i < I; i++) shard.set(w.subarray(i * O + j0, i * O + j1), i * W);
    k.matmul16(part, x, shard, kind, b, n, I, O, j0, j1);
    for (let r = 0; r < n; r++) {
      const row = part.slice(r * O, (r + 1) * O);
      t.deepEqual(bits(row.slice(j0, j1)), bits(want.slice(r * O + j0, r * O + j1)), `${kind} ${n}x${I}x${O} [${j0}, ${j1}) row ${r}`);
      t.true([...row.slice(0, j0), ...row.slice(j1)].every((v) => v === -7), `${kind} [${j0}, ${j1}) row ${r}: wrote outside`);
    }
  }
}

forEachBackend('matmul16 (bf16 and f16) equals matmul on the widened weights bit for bit, whole and on column shards', (t, k) => {
  for (const kind of ['bf16', 'f16'] as const)
    for (const [n, I, O] of [[1, 1, 1], [1, 70, 300], [3, 33, 17], [5, 130, 7], [7, 520, 300], [40, 64, 97], [24, 300, 70], [70, 300, 40]]) check16(t, k, kind, n, I, O, false);
}, { allSimd: true });

forEachBackend('matmul16 with f16 subnormal and infinite weights equals matmul on their f32 values', (t, k) => {
  for (const kind of ['f16', 'bf16'] as const) for (const n of [3, 12]) check16(t, k, kind, n, 40, 24, true);  // GEMV and packed GEMM
}, { allSimd: true });

test('native matmulQ8 / quantizeRowsQ8 / matmulQ8Rows / matmul16 refuse wrong argument types and short arrays with a TypeError naming them', (t) => {
  registerAllKernels();
  if (!backendStatus().find((b) => b.name === 'native')?.available) { t.pass('native backend unavailable'); return; }
  const k = kernelSet('native'), out = new Float32Array(4 * 40), x = new Float32Array(2 * 40);
  const { wq, ws } = quantized(2, 40, 1);
  t.throws(() => k.matmulQ8(out, x, new Uint8Array(80) as unknown as Int8Array, ws, null, 2, 40, 2), { instanceOf: TypeError, message: /wq must be a Int8Array/ });
  t.throws(() => k.matmulQ8(out, x, wq, ws.subarray(0, 3), null, 2, 40, 2), { instanceOf: TypeError, message: /ws has 3 elements, needs 4/ });
  t.throws(() => k.matmul16(out, x, new Uint16Array(80), 'fp8' as 'f16', null, 2, 40, 2), { instanceOf: TypeError, message: /kind must be "bf16" or "f16"/ });
  t.throws(() => k.matmul16(out, x, new Uint16Array(79), 'bf16', null, 2, 40, 2), { instanceOf: TypeError, message: /w has 79 elements, needs 80/ });
  const xq = new Int8Array(80), xd = new Float32Array(4);
  t.throws(() => k.quantizeRowsQ8(xq.subarray(0, 79), xd, x, 2, 40), { instanceOf: TypeError, message: /quantizeRowsQ8: xq has 79 elements, needs 80/ });
  t.throws(() => k.quantizeRowsQ8(xq, xd.subarray(0, 3), x, 2, 40), { instanceOf: TypeError, message: /xd has 3 elements, needs 4/ });
  t.throws(() => k.matmulQ8Rows(out, new Uint8Array(80) as unknown as Int8Array, xd, wq, ws, null, 2, 40, 2), { instanceOf: TypeError, message: /matmulQ8Rows: xq must be a Int8Array/ });
  t.throws(() => k.matmulQ8Rows(out, xq, xd, wq, ws, null, 2, 40, 2, 1, 3), { instanceOf: TypeError, message: /j0, j1/ });
});
