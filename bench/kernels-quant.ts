// Quantized-weight kernel benchmark (issue #12): matmulQ8 and matmul16 (bf16, f16) next to the f32
// matmul on GPT-2-small and SmolLM2-360M shapes, M = 1, 8, 64, native backend, one thread.
//   npm run bench:quant -- [--out bench/results/kernels-quant.json] [--paths avx512-vnni,avx2-fma] [--reps 7]
// (a separate file from bench/kernels.ts, which is at its size limit; same method.) Each format's
// weights are rotated over copies totalling ≥ 192 MB so they stream from DRAM as in a forward pass.
// Before timing, each (path, shape) checks matmulQ8 == the reference bit for bit and matmul16 ==
// matmul on the widened weights bit for bit (M = 8 and 32). GFLOP/s = 2·M·I·O / t (for Q8 "equivalent":
// int8 MACs counted as flops); GB/s = weight bytes / t (f32 4, 16-bit 2, Q8 1 + 4/32 per weight).
// The LM-head rows use lmHead for f32 (w [V, C]) and matmulQ8 with w [V, C] and no bias.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { registerAllKernels } from '../src/kernels/register-all.js';
import { kernelSet } from '../src/kernels/registry.js';
import { NATIVE_SIMD_PATHS, nativeSimd, setNativeSimd } from '../src/kernels/native/index.js';
import { quantizeQ8, widen16 } from '../src/kernels/quant.js';
import { median } from './stats.js';

const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : def; };
const outPath = arg('out', 'bench/results/kernels-quant.json'), reps = Number(arg('reps', '7'));
const ROTATE = 192 * 2 ** 20;
registerAllKernels();
const nat = kernelSet('native'), ref = kernelSet('reference');
const paths = arg('paths', nativeSimd() ?? 'portable').split(',').filter((p) => (NATIVE_SIMD_PATHS as readonly string[]).includes(p));

let seed = 1;
const rnd = (n: number, s: number) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; a[i] = ((seed / 2 ** 32) * 2 - 1) * s; } return a; };
const bf16Of = (w: Float32Array) => Uint16Array.from(new Uint32Array(w.buffer), (u) => u >>> 16);
// f16 by way of bf16-safe values: |w| ≤ 0.05 keeps every value normal in f16; round-to-nearest-even not needed for a benchmark
const f16Of = (w: Float32Array) => Uint16Array.from(w, (v) => { const a = Math.abs(v), e = Math.max(-14, Math.floor(Math.log2(a || 2 ** -24))); const m = Math.round(a / 2 ** e * 1024) - (e > -15 && a >= 2 ** -14 ? 1024 : 0); return (v < 0 ? 0x8000 : 0) | (a < 2 ** -14 ? Math.round(a / 2 ** -24) : ((e + 15) << 10) + m); });

const SHAPES: Array<[string, number, number, boolean]> = [  // name, I, O, LM head
  ['gpt2 mlp.c_fc', 768, 3072, false], ['gpt2 mlp.c_proj', 3072, 768, false], ['gpt2 lm_head', 768, 50257, true],
  ['smollm2 up', 960, 2560, false], ['smollm2 down', 2560, 960, false], ['smollm2 lm_head', 960, 49152, true],
];
const MS = arg('ms', '1,8,64').split(',').map(Number);
const shapeFilter = arg('shapes', '');
const FORMATS = ['f32', 'bf16', 'f16', 'q8'] as const;
type Fmt = (typeof FORMATS)[number];
const bytesPer: Record<Fmt, number> = { f32: 4, bf16: 2, f16: 2, q8: 1 + 4 / 32 };

interface Row { path: string; shape: string; I: number; O: number; M: number; format: Fmt; median_ms: number; gflops: number; gbs: number }
const rows: Row[] = [];
const checks: string[] = [];

for (const [name, I, O, head] of SHAPES) {
  if (shapeFilter && !shapeFilter.split(',').some((f) => name.includes(f))) continue;
  const copies = Math.max(1, Math.ceil(ROTATE / (4 * I * O)));
  const f32w = Array.from({ length: copies }, () => rnd(I * O, 0.05));  // [I, O] (matmul) or [V, C] = [O, I] (head)
  const bias = head ? null : rnd(O, 0.1);
  const w16 = { bf16: f32w.map(bf16Of), f16: f32w.map(f16Of) };
  const nb = Math.ceil(I / 32);
  // Q8 takes [O, I]: the head's [V, C] as it is; a linear's [I, O] transposed once
  const q8 = f32w.map((w) => {
    const t = head ? w : Float32Array.from({ length: I * O }, (_, i) => w[(i % I) * O + Math.floor(i / I)]);
    const wq = new Int8Array(I * O), ws = new Float32Array(O * nb);
    quantizeQ8(wq, ws, t, O, I);
    return { wq, ws };
  });
  const x = rnd(Math.max(64, ...MS) * I, 1);
  const run = (f: Fmt, c: number, M: number, out: Float32Array) => {
    const i = c % copies;
    if (f === 'q8') nat.matmulQ8(out, x, q8[i].wq, q8[i].ws, bias, M, I, O);
    else if (head) { if (f === 'f32') nat.lmHead(out, x, f32w[i], M, I, O); else return false; }
    else if (f === 'f32') nat.matmul(out, x, f32w[i], bias, M, I, O);
    else nat.matmul16(out, x, w16[f][i], f, bias, M, I, O);
    return true;
  };
  for (const p of paths) {
    setNativeSimd(p as (typeof NATIVE_SIMD_PATHS)[number]);
    { // correctness on this path before timing
      const a = new Float32Array(8 * O), b = new Float32Array(8 * O);
      nat.matmulQ8(a, x, q8[0].wq, q8[0].ws, bias, 8, I, O);
      ref.matmulQ8(b, x, q8[0].wq, q8[0].ws, bias, 8, I, O);
      const okQ = Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
      let ok16 = true;
      if (!head) for (const k of ['bf16', 'f16'] as const) for (const m of [8, 32]) {  // register-widening GEMV, packed GEMM
        const wf = new Float32Array(I * O); widen16(wf, w16[k][0], k);
        const c = new Float32Array(m * O), d = new Float32Array(m * O);
        nat.matmul(c, x, wf, bias, m, I, O); nat.matmul16(d, x, w16[k][0], k, bias, m, I, O);
        ok16 &&= Buffer.from(c.buffer).equals(Buffer.from(d.buffer));
      }
      checks.push(`${p} ${name}: matmulQ8 == reference ${okQ ? 'yes' : 'NO'}; matmul16 == matmul ${head ? 'n/a' : ok16 ? 'yes' : 'NO'}`);
      if (!okQ || !ok16) process.exitCode = 1;
    }
    for (const M of MS) for (const f of FORMATS) {
      const out = new Float32Array(M * O);
      let c = 0;
      if (!run(f, c++, M, out)) continue;
      const t0 = performance.now(); run(f, c++, M, out); const one = performance.now() - t0;
      const iters = Math.max(1, Math.min(200, Math.ceil(30 / Math.max(one, 1e-3))));
      const samples: number[] = [];
      for (let s = 0; s < reps; s++) {
        const ts = performance.now();
        for (let i = 0; i < iters; i++) run(f, c++, M, out);
        samples.push((performance.now() - ts) / iters);
      }
      const ms = median(samples), sec = ms / 1000;
      rows.push({ path: p, shape: name, I, O, M, format: f, median_ms: +ms.toFixed(4), gflops: +((2 * M * I * O) / sec / 1e9).toFixed(2), gbs: +((bytesPer[f] * I * O) / sec / 1e9).toFixed(2) });
    }
    setNativeSimd('default');
  }
}

console.log(`${cpus()[0]?.model}, node ${process.version}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const c of checks) console.log(`  ${c}`);
console.log(`\n${'path'.padEnd(12)}${'shape'.padEnd(17)}${'I×O'.padStart(11)}${'M'.padStart(4)}  ${'fmt'.padEnd(5)}${'ms'.padStart(9)}${'GFLOP/s'.padStart(9)}${'GB/s w'.padStart(8)}`);
for (const r of rows) console.log(`${r.path.padEnd(12)}${r.shape.padEnd(17)}${`${r.I}×${r.O}`.padStart(11)}${String(r.M).padStart(4)}  ${r.format.padEnd(5)}${r.median_ms.toFixed(3).padStart(9)}${r.gflops.toFixed(1).padStart(9)}${r.gbs.toFixed(1).padStart(8)}`);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, checks, rows }, null, 2)}\n`);
console.log(`wrote ${outPath}`);
