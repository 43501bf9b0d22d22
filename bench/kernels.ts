// Kernel benchmark: every available backend on GPT-2-small shapes, one thread.
//   npm run bench:kernels -- [--out bench/results/kernels.json] [--backends native,reference] [--reps 7] [--quick]
// 1. Validates every op of every backend against the reference backend on the benchmark shapes
//    (max|Δ|/max|ref| ≤ 1e-4); a kernel that does not match is not timed.
// 2. Checks batch invariance: row r of an M = 64 call must be bit-identical to an M = 1 call on row r.
// 3. Times matmul (768×2304, 768×3072, 3072×768) and the tied LM head (768×50257 via lmHead) at
//    M = 1, 8, 64: median of ≥ 5 samples (3 for the reference backend and calls > 2 s), GFLOP/s = 2·M·I·O / t and
//    GB/s of weights = 4·I·O / t. Weights are rotated over copies totalling ≥ 256 MB so they
//    stream from DRAM as in a real forward pass, not from the last-level cache.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { registerAllKernels } from '../src/kernels/register-all.js';
import { kernelSet } from '../src/kernels/registry.js';
import type { KernelSet } from '../src/kernels/names.js';
import { nativeSimd } from '../src/kernels/native/index.js';

const TOL = 1e-4;
const REF_SKIP_S = 20; // a (backend, shape, M) whose single call takes longer is not timed
const SLOW_S = 2;      // calls slower than this get 3 samples instead of ≥ 5
const ROTATE_BYTES = 256 * 2 ** 20;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const outPath = arg('out', 'bench/results/kernels.json');
const quick = process.argv.includes('--quick');
const repsArg = Number(arg('reps', quick ? '5' : '7'));

// ---- data (SharedArrayBuffer-backed, as the pipeline passes them) -----------------------------------
let seed = 12345;
function f32(n: number, scale = 1): Float32Array {
  const a = new Float32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    a[i] = ((seed / 4294967296) * 2 - 1) * scale;
  }
  return a;
}
function i32(values: number[]): Int32Array {
  const a = new Int32Array(new SharedArrayBuffer(values.length * 4));
  a.set(values);
  return a;
}
function relErr(a: Float32Array, b: Float32Array): number {
  let md = 0, mr = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= md)) md = d;
    if (Math.abs(b[i]) > mr) mr = Math.abs(b[i]);
  }
  return md / (mr || 1);
}
function bitEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

// ---- environment -------------------------------------------------------------------------------------
function trainingRunning(): boolean {
  const r = spawnSync('pgrep', ['-f', 'train_demo.py'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}
const env = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  loadavg_start: loadavg().map((x) => +x.toFixed(2)),
  train_demo_running_start: trainingRunning(),
  native_simd: null as string | null,
};

const statuses = registerAllKernels();
env.native_simd = nativeSimd();
const only = arg('backends', '');
const backends = statuses.filter((s) => s.available && (!only || only.split(',').includes(s.name))).map((s) => s.name);
if (!backends.includes('reference')) backends.unshift('reference'); // needed to validate
const sets = new Map<string, KernelSet>(backends.map((b) => [b, kernelSet(b)]));
const ref = sets.get('reference')!;

console.log(`kernel benchmark: ${env.cpu}, ${env.cores} cores, node ${env.node}, load ${env.loadavg_start.join(' ')}` +
  `${env.train_demo_running_start ? ' (train_demo.py RUNNING: timings unreliable)' : ''}`);
for (const s of statuses) console.log(`  backend ${s.name}: ${s.available ? 'available' : `unavailable (${s.reason})`}${s.name === 'native' && env.native_simd ? ` simd=${env.native_simd}` : ''}`);

// ---- 1. validation of every op ------------------------------------------------------------------------
interface Check { backend: string; op: string; shape: string; rel: number | null; ok: boolean; note?: string }
const checks: Check[] = [];
const failed = new Set<string>(); // `${backend}_${op}` that must not be timed

function record(backend: string, op: string, shape: string, rel: number, note?: string): void {
  const ok = rel <= TOL;
  checks.push({ backend, op, shape, rel, ok, note });
  if (!ok) failed.add(`${backend}_${op}`);
}

const C = 768, NH = 12, V = 50257;
const MM_SHAPES: Array<[number, number, string]> = [[768, 2304, 'attn.c_attn'], [768, 3072, 'mlp.c_fc'], [3072, 768, 'mlp.c_proj'], [768, V, 'lm_head']];
const MS = [1, 8, 64];

// weights shared by validation and timing
const weights = new Map<string, Float32Array[]>();
function weightCopies(I: number, O: number): Float32Array[] {
  const key = `${I}x${O}`;
  let w = weights.get(key);
  if (!w) {
    const copies = Math.max(1, Math.ceil(ROTATE_BYTES / (4 * I * O)));
    w = Array.from({ length: copies }, () => f32(I * O, 0.05));
    weights.set(key, w);
  }
  return w;
}
const biases = new Map<number, Float32Array>();
const biasOf = (O: number) => biases.get(O) ?? (biases.set(O, f32(O, 0.1)), biases.get(O)!);
const xs = new Map<string, Float32Array>();
const xOf = (M: number, I: number) => xs.get(`${M}x${I}`) ?? (xs.set(`${M}x${I}`, f32(M * I, 1)), xs.get(`${M}x${I}`)!);

function runMm(k: KernelSet, out: Float32Array, I: number, O: number, M: number, w: Float32Array): void {
  if (O === V) k.lmHead(out, xOf(M, I), w, M, I, O); // wte [V, C] with C = I
  else k.matmul(out, xOf(M, I), w, biasOf(O), M, I, O);
}
const opOf = (O: number) => (O === V ? 'lmHead' : 'matmul');

interface Timing { backend: string; op: string; name: string; I: number; O: number; M: number; samples: number; median_ms: number | null;
  gflops: number | null; gbs: number | null; skipped?: string }
const timings: Timing[] = [];
const refFirstRunMs = new Map<string, number>(); // reference time of the validation run, per shape/M

console.log('\nvalidating against the reference backend (max|Δ|/max|ref| ≤ 1e-4) ...');
for (const [I, O] of MM_SHAPES) {
  const w = weightCopies(I, O)[0];
  for (const M of MS) {
    const expect = new Float32Array(M * O);
    const t0 = performance.now();
    runMm(ref, expect, I, O, M, w);
    refFirstRunMs.set(`${I}x${O}x${M}`, performance.now() - t0);
    for (const b of backends) {
      if (b === 'reference') continue;
      const got = new Float32Array(M * O);
      runMm(sets.get(b)!, got, I, O, M, w);
      record(b, opOf(O), `${M}x${I}x${O}`, relErr(got, expect));
    }
  }
}
// batch invariance: M = 64 rows vs M = 1 calls, bit for bit
for (const b of backends) {
  for (const [I, O] of MM_SHAPES) {
    const w = weightCopies(I, O)[0], k = sets.get(b)!;
    if (b === 'reference' && O === V) continue; // slow, and trivially invariant
    const all = new Float32Array(64 * O);
    runMm(k, all, I, O, 64, w);
    let same = true;
    for (const r of [0, 1, 5, 6, 31, 62, 63]) {
      const one = new Float32Array(O), xr = xOf(64, I).subarray(r * I, (r + 1) * I);
      if (O === V) k.lmHead(one, xr, w, 1, I, O);
      else k.matmul(one, xr, w, biasOf(O), 1, I, O);
      same &&= bitEqual(one, all.subarray(r * O, (r + 1) * O));
    }
    checks.push({ backend: b, op: opOf(O), shape: `M=1 vs M=64 ${I}x${O}`, rel: null, ok: same, note: 'bit-identical rows' });
    if (!same) failed.add(`${b}_${opOf(O)}`);
  }
}
// the other ops on GPT-2-small shapes
{
  const n = 64, T = 256, bs = 16;
  const x = f32(n * C, 3), gw = f32(C, 1), gb = f32(C, 1), big = f32(n * 4 * C, 4), y = f32(n * 4 * C, 4);
  const wte = weightCopies(C, V)[0], wpe = f32(1024 * C, 0.1);
  const tokens = i32(Array.from({ length: n }, (_, i) => (i * 7919) % V)), positions = i32(Array.from({ length: n }, (_, i) => (i * 13) % 1024));
  const logits = f32(8 * V, 10);
  // attention: 4 sequences of T positions in scrambled blocks; the n rows query various positions
  const nSeq = 4, maxB = T / bs, nBlocks = nSeq * maxB;
  const perm = Array.from({ length: nBlocks }, (_, i) => (i * 37) % nBlocks);
  const table = i32(perm), kCache = f32(nBlocks * bs * C, 1), vCache = f32(nBlocks * bs * C, 1), qkv = f32(n * 3 * C, 1);
  const seqIds = i32(Array.from({ length: n }, (_, i) => i % nSeq)), pos = i32(Array.from({ length: n }, (_, i) => T - 1 - ((i * 29) % T)));
  const slots = i32(Array.from({ length: n }, (_, i) => (perm[(i % nSeq) * maxB + 3] * bs + (i % bs))));
  const GQA_KV = 4, gqaQkv = f32(n * (NH + 2 * GQA_KV) * 64, 1), ropeCos = f32(1024 * 32, 1), ropeSin = f32(1024 * 32, 1);
  const cases: Array<[string, string, (k: KernelSet) => Float32Array]> = [
    ['embedding', `${n}x${C}`, (k) => { const o = new Float32Array(n * C); k.embedding(o, tokens, positions, wte, wpe, n, C); return o; }],
    ['layernorm', `${n}x${C}`, (k) => { const o = new Float32Array(n * C); k.layernorm(o, x, gw, gb, n, C, 1e-5); return o; }],
    ['gelu', `${n}x${4 * C}`, (k) => { const o = new Float32Array(n * 4 * C); k.gelu(o, big, n * 4 * C); return o; }],
    ['residual', `${n}x${4 * C}`, (k) => { const o = new Float32Array(n * 4 * C); k.residual(o, big, y, n * 4 * C); return o; }],
    ['kvWrite', `${n}x${C}`, (k) => {
      const kc = new Float32Array(kCache), vc = new Float32Array(vCache);
      k.kvWrite(qkv, kc, vc, slots, n, C, C);
      const o = new Float32Array(2 * kc.length); o.set(kc); o.set(vc, kc.length); return o;
    }],
    ['attention', `${n} rows, ${NH} heads, ≤${T} positions`, (k) => {
      const o = new Float32Array(n * C);
      k.attention({ out: o, qkv, kCache, vCache, seqIds, positions: pos, blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n, nHead: NH, nKvHead: NH, headDim: C / NH, window: 0, scratch: new Float32Array(T) });
      return o;
    }],
    // Llama-family ops on Qwen2.5-0.5B-like heads (GQA 12 query over 4 KV heads of 64) at C = 768
    ['rmsnorm', `${n}x${C}`, (k) => { const o = new Float32Array(n * C); k.rmsnorm(o, x, gw, n, C, 1e-6); return o; }],
    ['swiglu', `${n}x${2 * C}`, (k) => { const o = new Float32Array(n * 2 * C); k.swiglu(o, big, n, 2 * C); return o; }],
    ['rope', `${n} rows, ${NH}/${GQA_KV} heads of 64, q/k norm`, (k) => {
      const o = new Float32Array(gqaQkv);
      k.rope({ qkv: o, positions: pos, cos: ropeCos, sin: ropeSin, n, nHead: NH, nKvHead: GQA_KV, headDim: 64, qNorm: gw.subarray(0, 64), kNorm: gb.subarray(0, 64), eps: 1e-6 });
      return o;
    }],
    ['attention', `${n} rows, GQA ${NH}/${GQA_KV} heads, window 100`, (k) => {
      const o = new Float32Array(n * C);
      k.attention({ out: o, qkv: gqaQkv, kCache, vCache, seqIds, positions: pos, blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n, nHead: NH, nKvHead: GQA_KV, headDim: 64, window: 100, scratch: new Float32Array(T) });
      return o;
    }],
    ['logSoftmax', `8x${V}`, (k) => { const o = new Float32Array(8 * V); k.logSoftmax(o, logits, 8, V); return o; }],
    ['rowArgmax', `8x${V}`, (k) => { // indices and maxima must match exactly: rel error 0
      const idx = new Int32Array(8), mx = new Float32Array(8);
      k.rowArgmax(idx, mx, logits, 8, V);
      return Float32Array.from([...idx, ...mx]);
    }],
  ];
  for (const [op, shape, run] of cases) {
    const expect = run(ref);
    for (const b of backends) if (b !== 'reference') record(b, op, shape, relErr(run(sets.get(b)!), expect));
  }
}
for (const c of checks) {
  if (c.backend === 'reference' && c.rel === null && c.ok) continue;
  if (!c.ok || process.argv.includes('--verbose'))
    console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.backend} ${c.op} ${c.shape}${c.rel !== null ? ` rel ${c.rel.toExponential(2)}` : ` ${c.note}`}`);
}
console.log(`  ${checks.filter((c) => c.ok).length}/${checks.length} checks passed${failed.size ? `; NOT timed: ${[...failed].join(', ')}` : ''}`);

// ---- 2. timing -------------------------------------------------------------------------------------------
function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

console.log('\ntiming (one thread) ...');
for (const b of backends) {
  const k = sets.get(b)!;
  for (const [I, O, name] of MM_SHAPES) {
    const op = opOf(O), copies = weightCopies(I, O);
    for (const M of MS) {
      const base = { backend: b, op, name, I, O, M };
      if (failed.has(`${b}_${op}`)) { timings.push({ ...base, samples: 0, median_ms: null, gflops: null, gbs: null, skipped: 'failed validation' }); continue; }
      if (b === 'reference') {
        const first = refFirstRunMs.get(`${I}x${O}x${M}`) ?? 0;
        if (first > REF_SKIP_S * 1000) {
          timings.push({ ...base, samples: 0, median_ms: null, gflops: null, gbs: null, skipped: `one run took ${(first / 1000).toFixed(1)} s > ${REF_SKIP_S} s` });
          continue;
        }
      }
      const out = new Float32Array(M * O);
      let c = 0;
      runMm(k, out, I, O, M, copies[c++ % copies.length]); // warm-up (code, scratch)
      // calls per sample: enough for ≥ 30 ms (native at small shapes), at least 1
      const t0 = performance.now();
      runMm(k, out, I, O, M, copies[c++ % copies.length]);
      const one = performance.now() - t0;
      if (one > REF_SKIP_S * 1000) {
        timings.push({ ...base, samples: 0, median_ms: null, gflops: null, gbs: null, skipped: `one run took ${(one / 1000).toFixed(1)} s > ${REF_SKIP_S} s` });
        continue;
      }
      const iters = Math.max(1, Math.min(200, Math.ceil(30 / Math.max(one, 1e-3))));
      // ≥ 5 samples; 3 for the reference backend and for any call slower than SLOW_S
      const reps = b === 'reference' || one > SLOW_S * 1000 ? 3 : Math.max(5, repsArg);
      const samples: number[] = [];
      for (let s = 0; s < reps; s++) {
        const ts = performance.now();
        for (let i = 0; i < iters; i++) runMm(k, out, I, O, M, copies[c++ % copies.length]);
        samples.push((performance.now() - ts) / iters);
      }
      const ms = median(samples), sec = ms / 1000;
      timings.push({ ...base, samples: reps, median_ms: +ms.toFixed(4), gflops: +((2 * M * I * O) / sec / 1e9).toFixed(2), gbs: +((4 * I * O) / sec / 1e9).toFixed(2) });
    }
  }
}

// ---- report ----------------------------------------------------------------------------------------------
const endEnv = { loadavg_end: loadavg().map((x) => +x.toFixed(2)), train_demo_running_end: trainingRunning() };
const pad = (s: string, n: number) => s.padStart(n);
console.log(`\n${'backend'.padEnd(10)}${'op'.padEnd(8)}${pad('I×O', 12)}${pad('M', 4)}${pad('median ms', 12)}${pad('GFLOP/s', 10)}${pad('GB/s w', 9)}  note`);
for (const t of timings) {
  console.log(`${t.backend.padEnd(10)}${t.op.padEnd(8)}${pad(`${t.I}×${t.O}`, 12)}${pad(String(t.M), 4)}` +
    `${pad(t.median_ms === null ? '-' : t.median_ms.toFixed(3), 12)}${pad(t.gflops === null ? '-' : t.gflops.toFixed(2), 10)}` +
    `${pad(t.gbs === null ? '-' : t.gbs.toFixed(2), 9)}  ${t.skipped ? `skipped: ${t.skipped}` : `${t.name}, median of ${t.samples}`}`);
}
console.log(`load average ${env.loadavg_start.join(' ')} → ${endEnv.loadavg_end.join(' ')}; train_demo.py running: ${env.train_demo_running_start || endEnv.train_demo_running_end ? 'YES (timings unreliable)' : 'no'}`);

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify({ env: { ...env, ...endEnv, rotate_weights_bytes: ROTATE_BYTES }, backends: statuses, checks, timings }, null, 2)}\n`);
console.log(`wrote ${outPath}`);
if (failed.size) process.exitCode = 1;
