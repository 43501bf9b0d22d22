// The load-time native helpers equal their TypeScript definitions bit for bit: quantizeColsBandQ8
// (a Conv1D linear's columns, whole or a band at a time) and quantizeRowsQ8From (an nn.Linear's or
// a table's rows, f32 or 16-bit widened, checked and quantized in one pass) against quant.ts quantizeQ8,
// on shapes with a short last block and row counts that split unevenly over threads; widen16 over
// every 16-bit pattern against quant.ts widen16 (NaN payloads aside); transposeInto and firstNonFinite
// against index arithmetic. Skipped, saying why, where the addon is not built.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { ckptDir, repoPath } from '../helpers/paths.js';
import { addonOrNull, loadAddon } from '../../src/kernels/native/addon.js';
import { q8Blocks, quantizeQ8, widen16 } from '../../src/kernels/quant.js';
import { toBf16, toF16 } from '../../src/kernels/f16.js';

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

/** fn on each of PATHS, then back to the default path */
function onEveryPath(fn: (path: string) => void): void {
  for (const path of PATHS) {
    nat!.setSimd(path);
    try { fn(path); } finally { nat!.setSimd('default'); }
  }
}

maybe('quantizeColsBandQ8 over a whole linear equals quantizeQ8 of the transposed matrix, and quantizeRowsQ8From of the rows as given, on every SIMD path', (t) => {
  onEveryPath((path) => quantizeCase(t, path));
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
    t.is(nat!.quantizeColsBandQ8(got.q, got.s, w, 'f32', I, O, 0), -1);
    t.deepEqual(got.q, want.q, `${path}: q [${I}, ${O}]`);
    t.deepEqual(new Uint32Array(got.s.buffer), new Uint32Array(want.s.buffer), `${path}: scales [${I}, ${O}]`);
    // the head: w [O, I] already in row order
    const rows = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    t.is(nat!.quantizeRowsQ8From(rows.q, rows.s, wt, 'f32', I, O), -1);
    t.deepEqual(rows.q, want.q, `${path}: rows q [${O}, ${I}]`);
    t.deepEqual(new Uint32Array(rows.s.buffer), new Uint32Array(want.s.buffer), `${path}: rows scales [${O}, ${I}]`);
  }
  t.true(PATHS.length >= 1);
}

maybe('quantizeRowsQ8From equals quantizeQ8 of the widened 16-bit rows and finds the first NaN / inf, on every SIMD path', (t) => {
  onEveryPath((path) => rows16Case(t, path));
});

function rows16Case(t: any, path: string): void {
  let s = 11;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 16;
  for (const kind of ['bf16', 'f16'] as const) {
    const ones = kind === 'f16' ? 0x7c00 : 0x7f80;
    for (const [I, O] of [[32, 1], [40, 17], [96, 1000], [100, 2053]]) {
      const w = Uint16Array.from({ length: O * I }, () => { const h = next(); return (h & ones) === ones ? h ^ 0x4000 : h; });  // finite
      const f = new Float32Array(O * I);
      widen16(f, w, kind);
      const nb = q8Blocks(I), want = { q: new Int8Array(O * I), s: new Float32Array(O * nb) }, got = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
      quantizeQ8(want.q, want.s, f, O, I);
      t.is(nat!.quantizeRowsQ8From(got.q, got.s, w, kind, I, O), -1, `${path} ${kind} [${O}, ${I}]: finite`);
      t.deepEqual(got.q, want.q, `${path} ${kind}: q [${O}, ${I}]`);
      t.deepEqual(new Uint32Array(got.s.buffer), new Uint32Array(want.s.buffer), `${path} ${kind}: scales [${O}, ${I}]`);
      // a NaN in the last row and an inf in the middle one (other threads' rows when O ≥ 128): the earlier wins
      const late = (O - 1) * I + I - 1, early = (O >> 1) * I + 3;
      w[late] = ones | 1;
      t.is(nat!.quantizeRowsQ8From(got.q, got.s, w, kind, I, O), late, `${path} ${kind} [${O}, ${I}]: the NaN`);
      w[early] = ones | 0x8000;
      t.is(nat!.quantizeRowsQ8From(got.q, got.s, w, kind, I, O), Math.min(early, late), `${path} ${kind} [${O}, ${I}]: the first of two`);
    }
  }
}

maybe('quantizeColsBandQ8 gives quantizeQ8 of the transposed matrix band by band, and the first NaN / inf, on every SIMD path', (t) => {
  onEveryPath((path) => colsBandCase(t, path));
});

function colsBandCase(t: any, path: string): void {
  const r = rng(5);
  for (const [I, O, band] of [[32, 1, 32], [100, 17, 64], [96, 300, 32], [200, 40, 96]]) {  // short last blocks and bands
    const w = Float32Array.from({ length: I * O }, r), wt = new Float32Array(O * I);  // w [I, O], wt its [O, I]
    for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) wt[j * I + i] = w[i * O + j];
    const nb = q8Blocks(I), want = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    quantizeQ8(want.q, want.s, wt, O, I);
    const w16 = Uint16Array.from(new Uint32Array(w.buffer), (u) => u >>> 16), w16f = new Float32Array(I * O);  // bf16 patterns, and their values
    widen16(w16f, w16, 'bf16');
    const wt16 = new Float32Array(O * I);
    for (let i = 0; i < I; i++) for (let j = 0; j < O; j++) wt16[j * I + i] = w16f[i * O + j];
    const want16 = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
    quantizeQ8(want16.q, want16.s, wt16, O, I);
    for (const [src, kind, exp] of [[w, 'f32', want], [w16, 'bf16', want16]] as const) {
      const got = { q: new Int8Array(O * I), s: new Float32Array(O * nb) };
      for (let i0 = 0; i0 < I; i0 += band) t.is(nat!.quantizeColsBandQ8(got.q, got.s, src.subarray(i0 * O, Math.min(I, i0 + band) * O), kind, I, O, i0), -1);
      t.deepEqual(got.q, exp.q, `${path} ${kind}: q [${I}, ${O}] in bands of ${band}`);
      t.deepEqual(new Uint32Array(got.s.buffer), new Uint32Array(exp.s.buffer), `${path} ${kind}: scales [${I}, ${O}]`);
    }
    // the first non-finite in the band's order: two in the last rows, the earlier wins
    const b = w.slice(0, Math.min(I, 32) * O), late = b.length - 1, early = Math.max(0, b.length - O - 1);
    b[late] = NaN; b[early] = -Infinity;
    t.is(nat!.quantizeColsBandQ8(new Int8Array(O * I), new Float32Array(O * nb), b, 'f32', I, O, 0), early, `${path} [${I}, ${O}]: the first of two`);
  }
  t.throws(() => nat!.quantizeColsBandQ8(new Int8Array(64), new Float32Array(2), new Float32Array(2), 'f32', 32, 2, 16), { message: /multiple of 32/ });
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

// narrow16 against a rounding written here from the definition: the two neighbouring 16-bit values
// of x (by bisection over the positive patterns, valued by their own formula), the nearer one, a tie
// to the even pattern, past the largest finite by half an ulp or more: infinity.
function value16(h: number, kind: 'bf16' | 'f16'): number {
  const [EB, MB, bias] = kind === 'bf16' ? [8, 7, 127] : [5, 10, 15];
  const e = (h >> MB) & ((1 << EB) - 1), m = h & ((1 << MB) - 1);
  return e === 0 ? m * 2 ** (1 - bias - MB) : (1 + m / 2 ** MB) * 2 ** (e - bias);
}
function naiveNarrow(x: number, kind: 'bf16' | 'f16'): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0, a = Math.abs(x);
  const maxFinite = kind === 'bf16' ? 0x7f7f : 0x7bff, inf = kind === 'bf16' ? 0x7f80 : 0x7c00;
  if (a === Infinity) return sign | inf;
  let lo = 0, hi = maxFinite;                 // largest pattern with value ≤ a
  if (a >= value16(maxFinite, kind)) lo = maxFinite;
  else while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (value16(mid, kind) <= a) lo = mid; else hi = mid - 1; }
  const below = value16(lo, kind), ulp = value16(lo + 1, kind) - below; // lo + 1 = maxFinite + 1 is inf's pattern: its formula value is the next power of two
  const d = a - below;
  const h = d * 2 > ulp || (d * 2 === ulp && (lo & 1) === 1) ? lo + 1 : lo;
  return sign | (h > maxFinite ? inf : h);
}

maybe('narrow16 rounds to the nearest bf16 / f16 (ties to even, overflow to infinity), as a rounding from the definition does, and as f16.ts does', (t) => {
  const r = rng(11), xs: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e-8, 5.9604645e-8, 2.98e-8, 6.1e-5, 3.4e38, -3.4e38, Infinity, -Infinity];
  for (let i = 0; i < 4000; i++) xs.push(r() * 10 ** Math.round(r() * 6));
  for (let h = 0; h < 0x7c00; h += 37) {    // the f16 and bf16 values themselves, and the midpoints (ties) between neighbours
    for (const kind of ['bf16', 'f16'] as const) {
      const v = value16(h, kind), next = value16(h + 1, kind);
      if (Number.isFinite(v) && v < 3e38) xs.push(v, -v, Math.fround((v + next) / 2), Math.fround(v + (next - v) * 0.49));
    }
  }
  const src = Float32Array.from(xs);
  for (const kind of ['bf16', 'f16'] as const) {
    const got = new Uint16Array(src.length);
    nat!.narrow16(got, src, kind, src.length);
    const own = kind === 'bf16' ? toBf16 : toF16;
    let bad = -1, badOwn = -1;
    src.forEach((x, i) => {
      if (bad < 0 && got[i] !== naiveNarrow(x, kind)) bad = i;
      if (badOwn < 0 && got[i] !== own(x)) badOwn = i;
    });
    t.is(bad, -1, `${kind}: ${src[bad]} → 0x${got[bad]?.toString(16)}, definition 0x${bad >= 0 ? naiveNarrow(src[bad], kind).toString(16) : ''}`);
    t.is(badOwn, -1, `${kind}: ${src[badOwn]} differs from f16.ts`);
  }
  const nan = new Uint16Array(2);
  nat!.narrow16(nan, Float32Array.of(NaN, NaN), 'bf16', 2);
  t.true((nan[0] & 0x7f80) === 0x7f80 && (nan[0] & 0x7f) !== 0, `NaN stays a NaN (0x${nan[0].toString(16)})`);
  t.throws(() => nat!.narrow16(new Uint16Array(3), new Float32Array(3), 'fp8' as 'f16', 3), { message: /kind must be "bf16" or "f16"/ });
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

maybe('transpose16Into moves the 16-bit values as transposeInto moves f32 ones; firstNonFinite16 finds the first inf / NaN pattern', (t) => {
  for (const [out, inp, O, col] of [[1, 1, 1, 0], [33, 70, 100, 5], [64, 96, 200, 136], [130, 31, 130, 0]]) {
    const src = Uint16Array.from({ length: out * inp }, (_, i) => (i * 40503) & 0xffff), dst = new Uint16Array(inp * O).fill(7);
    nat!.transpose16Into(dst, src, out, inp, O, col);
    let bad = 0;
    for (let i = 0; i < inp; i++) for (let c = 0; c < O; c++) if (dst[i * O + c] !== (c >= col && c < col + out ? src[(c - col) * inp + i] : 7)) bad++;
    t.is(bad, 0, `${out}x${inp} into [${inp}, ${O}] at ${col}`);
  }
  for (const [kind, ones] of [['f16', 0x7c00], ['bf16', 0x7f80]] as const) {
    const a = new Uint16Array(3000).fill(ones - 1);  // the largest finite magnitude
    t.is(nat!.firstNonFinite16(a, kind), -1, kind);
    a[2999] = ones | 0x8000; a[1500] = ones | 3; a[1024] = ones ^ 0x0400;  // -inf, a NaN, a finite value one exponent bit short
    t.is(nat!.firstNonFinite16(a, kind), 1500, `${kind}: the NaN first`);
    t.is(nat!.firstNonFinite16(a.subarray(1501), kind), 1498, `${kind}: then -inf`);
  }
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

maybe('without the addon (PIPEGPT_NATIVE=0) int8 and 16-bit loads of F32, F16 and BF16 checkpoints give the addon\'s bytes', (t) => {
  // [checkpoint, format]: int8 from each dtype; 16-bit weights in their own type (copied, transposed or not) and in the other
  const cases = [['f32', 'q8'], ['f16-prefix', 'q8'], ['bf16-sharded', 'q8'], ['qwen3-f16', 'q8'], ['qwen2-bf16-sharded', 'q8'], ['qwen3-f16', 'f16'], ['qwen2-bf16-sharded', 'bf16'],
    ['f16-prefix', 'f16'], ['bf16-sharded', 'bf16'], ['qwen3-f16', 'bf16']] as const;
  const url = pathToFileURL(repoPath('dist/src/model/checkpoint.js')).href;
  const script = `import { createHash } from 'node:crypto'; import { loadCheckpoint } from ${JSON.stringify(url)};
    const a = process.argv.slice(1);
    for (let i = 0; i < a.length; i += 2) console.log(createHash('sha256').update(new Uint8Array(loadCheckpoint(a[i], undefined, a[i + 1]).buffer)).digest('hex'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...cases.flatMap(([n, f]) => [ckptDir(n), f])], { encoding: 'utf8', env: { ...process.env, PIPEGPT_NATIVE: '0' } });
  t.is(r.status, 0, r.stderr);
  const js = r.stdout.trim().split('\n');
  cases.forEach(([name, f], i) => t.is(js[i], createHash('sha256').update(new Uint8Array(loadCheckpoint(ckptDir(name), undefined, f).buffer)).digest('hex'), `${name} as ${f}`));
});
