// Raw forward scaling: the ceiling that the pipeline's replica scaling is measured against.
// T threads each run decode steps of R rows on the same shared weights, started together, with
// no coordinator, no sampling and no messages in the timed loop. If T threads give less than
// T× one thread here, the loss is the machine's (memory bandwidth, shared cache, clocks), and no
// scheduling can win it back; bench/scaling.ts shows how close the real pipeline gets.
//   node dist/bench/forward-threads.js --threads 1,2 --rows 16,32 --context 64 --steps 32 --runs 3
//     [--format f32|bf16|f16|q8] [--shape gpt2-small|smollm2-135m|smollm2-360m] [--model DIR]
// (the KV cache as the engine's kv_cache_dtype auto picks it: q8 with q8 weights, f16 with 16-bit ones)
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { resolveBackend } from '../src/kernels/register-all.js';
import type { ThreadInit, ThreadResult } from './forward-threads-worker.js';
import { randomCheckpoint } from './random-checkpoint.js';
import { median } from './stats.js';
import type { WeightFormat } from '../src/model/weight-format.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string' }, threads: { type: 'string', default: '1,2' }, rows: { type: 'string', default: '16,32' },
  context: { type: 'string', default: '64' }, steps: { type: 'string', default: '32' }, runs: { type: 'string', default: '3' },
  backend: { type: 'string', default: 'auto' }, shape: { type: 'string', default: 'gpt2-small' },
  format: { type: 'string', default: 'f32' },
} });
const FORMATS: readonly WeightFormat[] = ['f32', 'bf16', 'f16', 'q8'];
if (!(FORMATS as readonly string[]).includes(a.format!)) throw new Error(`--format ${a.format}: expected one of ${FORMATS.join(', ')}`);
const format = a.format as WeightFormat;
const WORKER = new URL('./forward-threads-worker.js', import.meta.url);
const weights = loadCheckpoint(a.model ?? randomCheckpoint(a.shape), undefined, format);
const backend = resolveBackend(a.backend!);

/** Starts T threads, waits until all have prefilled, releases them together; per-thread results. */
async function runOnce(T: number, rows: number): Promise<ThreadResult[]> {
  const init: ThreadInit = { config: weights.layout.config, params: weights.buffer, format, backend, rows, context: Number(a.context), steps: Number(a.steps) };
  const workers = Array.from({ length: T }, () => new Worker(WORKER, { workerData: init }));
  const ready = workers.map((w) => new Promise<void>((res, rej) => { w.once('message', () => res()); w.once('error', rej); }));
  await Promise.all(ready);
  const done = workers.map((w) => new Promise<ThreadResult>((res, rej) => { w.once('message', res); w.once('error', rej); }));
  for (const w of workers) w.postMessage('go');
  const out = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  return out;
}

interface Row { threads: number; rows: number; tokPerS: number; perThread: number; runs: number[]; opMs: Record<string, number> }
const results: Row[] = [];
const configs = a.rows!.split(',').flatMap((r) => a.threads!.split(',').map((t) => [Number(t), Number(r)] as const));
// runs interleave the configurations, so slow drifts of a shared machine hit all of them alike
const samples = new Map<string, { tok: number[]; op: Array<Record<string, number>> }>();
for (let run = 0; run < Number(a.runs); run++) {
  for (const [T, R] of configs) {
    const res = await runOnce(T, R);
    const tokPerS = res.reduce((s, r) => s + (R * Number(a.steps)) / (r.decodeMs / 1000), 0);
    const k = `${T}/${R}`, e = samples.get(k) ?? { tok: [], op: [] };
    e.tok.push(tokPerS);
    e.op.push(res[0].opMs);
    samples.set(k, e);
  }
}
for (const [T, R] of configs) {
  const e = samples.get(`${T}/${R}`)!, tok = median(e.tok), i = e.tok.indexOf(tok);
  results.push({ threads: T, rows: R, tokPerS: tok, perThread: tok / T, runs: e.tok, opMs: e.op[i] });
}
const base = new Map(results.filter((r) => r.threads === 1).map((r) => [r.rows, r.tokPerS]));
console.log(`decode, ${a.context} tokens of context, ${a.steps} steps, ${format} weights, backend ${backend}, median of ${a.runs} interleaved runs`);
console.log('| threads | rows/thread | tok/s | per thread | vs 1 thread same rows |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  const b = base.get(r.rows);
  console.log(`| ${r.threads} | ${r.rows} | ${r.tokPerS.toFixed(1)} | ${r.perThread.toFixed(1)} | ${b ? (r.tokPerS / b).toFixed(2) + '×' : '-'} |`);
}
console.log('\nms per decode step by op (thread 0, median run):');
const ops = [...new Set(results.flatMap((r) => Object.keys(r.opMs)))].sort();
console.log('| op | ' + results.map((r) => `${r.threads}t×${r.rows}`).join(' | ') + ' |');
console.log('|---|' + results.map(() => '---|').join(''));
for (const op of ops) console.log(`| ${op} | ` + results.map((r) => ((r.opMs[op] ?? 0) / Number(a.steps)).toFixed(2)).join(' | ') + ' |');
