// The load-time native helpers equal their TypeScript definitions bit for bit: quantizeLinearQ8
// (transpose + Q8 of a linear, and the LM head's rows as they are) against quant.ts quantizeQ8,
// on shapes with a short last block and row counts that split unevenly over threads; widen16 over
// every 16-bit pattern against quant.ts widen16 (NaN payloads aside); transposeInto and firstNonFinite
// against index arithmetic. Skipped, saying why, where the addon is not built.
import test from 'ava';
import { addonOrNull, loadAddon } from '../../src/kernels/native/addon.js';
import { q8Blocks, quantizeQ8, widen16 } from '../../src/kernels/quant.js';

const nat = addonOrNull();
const maybe = nat === null ? test.skip : test;
if (nat === null) console.log(`native addon not loaded (${loadAddon()}): load-helper tests skipped`);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 4;
}

// every SIMD path this CPU has: each brings its own vector quantize_row_q8 (also matmulQ8's)
const PATHS = (['portable', 'avx2-fma', 'avx512-vnni'] as const).filter((p) => {
  try { nat?.setSimd(p); return nat !== null; } catch { return false; } finally { nat?.setSimd('default'); }
});

maybe('quantizeLinearQ8 equals quantizeQ8 of the transposed matrix, and of the rows as given when transposed, on every SIMD path', (t) => {
  for (const path of PATHS) {
    nat!.setSimd(path);
    try { quantizeCase(t, path); } finally { nat!.setSimd('default'); }
  }
});

function quantizeCase(t: any, path: string): void {
  const r = rng(3);
  for (const [I, O] of [[32, 1], [40, 17], [96, 1000], [768, 129], [100, 2053]]) {
    const w = Float32Array.from({ length: I * O }, r);
    w[5] = 0; w.fill(0, I, Math.min(I + 40, w.length)); // zero blocks: d = 0
    // ties: |x| / d exactly k + 1/2 (d = 1 when the column's block max is 127): rounds away from zero
    if (I >= 32 && O >= 2) for (let k = 0; k < 32; k++) w[k * O + 1] = k === 0 ? 127 : (k % 2 ? 1 : -1) * (k + 0.5);
    const wt = new Float32Array(I * O);
    for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) wt[j * I + i] = w[i * O + j];
    const nb = q8Blocks(I);
    const want = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    quantizeQ8(want.q, want.s, wt, O, I);
    const got = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    nat!.quantizeLinearQ8(got.q, got.s, w, I, O);
    t.deepEqual(got.q, want.q, `${path}: q [${I}, ${O}]`);
    t.deepEqual(new Uint32Array(got.s.buffer), new Uint32Array(want.s.buffer), `${path}: scales [${I}, ${O}]`);
    // the head: w [O, I] already in row order
    const rows = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    nat!.quantizeLinearQ8(rows.q, rows.s, wt, I, O, true);
    t.deepEqual(rows.q, want.q, `${path}: rows q [${O}, ${I}]`);
    t.deepEqual(new Uint32Array(rows.s.buffer), new Uint32Array(want.s.buffer), `${path}: rows scales [${O}, ${I}]`);
  }
  t.true(PATHS.length >= 1);
}

maybe('widen16 equals quant.ts widen16 for all 65536 bf16 and f16 patterns', (t) => {
  const src = Uint16Array.from({ length: 65536 }, (_, i) => i);
  for (const kind of ['bf16', 'f16'] as const) {
    const want = new Float32Array(65536), got = new Float32Array(65536);
    widen16(want, src, kind);
    nat!.widen16(got, src, kind, src.length);
    // NaN payloads may differ (JS writes its canonical NaN; checkpoints with NaN are refused anyway)
    const gu = new Uint32Array(got.buffer), wu = new Uint32Array(want.buffer);
    const bad = wu.findIndex((u, i) => u !== gu[i] && !(Number.isNaN(want[i]) && Number.isNaN(got[i])));
    t.is(bad, -1, `${kind}: pattern 0x${bad.toString(16)}: ${want[bad]} vs ${got[bad]}`);
  }
});

maybe('transposeInto writes the [out, in] matrix into columns [col, col + out) of [in, O] and nothing else', (t) => {
  for (const [out, inp, O, col] of [[1, 1, 1, 0], [5, 7, 9, 3], [33, 70, 100, 40], [200, 129, 300, 100], [64, 700, 64, 0]]) {
    const r = rng(out * inp), src = Float32Array.from({ length: out * inp }, r), dst = new Float32Array(inp * O).fill(-3);
    nat!.transposeInto(dst, src, out, inp, O, col);
    let bad = 0;
    for (let i = 0; i < inp; i++) for (let c = 0; c < O; c++) {
      const want = c >= col && c < col + out ? src[(c - col) * inp + i] : -3;
      if (dst[i * O + c] !== want) bad++;
    }
    t.is(bad, 0, `${out}x${inp} into [${inp}, ${O}] at ${col}`);
  }
  t.throws(() => nat!.transposeInto(new Float32Array(20), new Float32Array(8), 4, 2, 10, 7), { message: /columns \[col, col \+ out\)/ });
});

maybe('firstNonFinite finds the first NaN or ±Infinity in [from, to) wherever it is (block edges included), else -1', (t) => {
  const a = Float32Array.from({ length: 5000 }, rng(9));
  t.is(nat!.firstNonFinite(a, 0, a.length), -1);
  a[4999] = 3.4e38; a[17] = -0; a[18] = 1e-45;  // large, signed zero and subnormal values are finite
  t.is(nat!.firstNonFinite(a, 0, a.length), -1);
  for (const [at, v] of [[0, NaN], [1023, Infinity], [1024, -Infinity], [2047, NaN], [4999, NaN]] as const) {
    const b = a.slice(); b[at] = v; b[4000] = NaN;
    t.is(nat!.firstNonFinite(b, 0, b.length), Math.min(at, 4000), `${v} at ${at}`);
    t.is(nat!.firstNonFinite(b, at, b.length), at, `from ${at}`);
    t.is(nat!.firstNonFinite(b, at + 1, b.length), at < 4000 ? 4000 : -1, `from ${at + 1}`);
    t.is(nat!.firstNonFinite(b, 0, at), at > 4000 ? 4000 : -1, `up to ${at}`);
  }
});
