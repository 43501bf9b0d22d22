// Pipeline scaling benchmark: generated tokens/s for several worker counts on a random checkpoint
// of a real shape (--shape gpt2-small, smollm2-135m or smollm2-360m: bench/random-checkpoint.ts),
// with per-stage busy % and bubble %, and RSS. Median of --runs runs each.
//   node dist/bench/scaling.js --workers 1,2,3,4 --runs 3 --prompts 32 --prompt-len 32 --new-tokens 64 [--shape smollm2-135m]
// A --workers item is a worker count (the auto layout) or a forced layout: s<S>, r<R>, t<T>, k<K>
// in any combination, e.g. `1,r2,t2,s2t2,t2k2` (stages, replicas, tensor-parallel ranks,
// micro-batches in flight).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PipelineEngine } from '../src/runtime/pipeline-engine.js';
import { describePlan } from '../src/pipeline/stage-plan.js';
import { readModelConfig } from '../src/model/config.js';
import type { Dtype, Quantization } from '../src/model/weight-format.js';
import { stageStats, type StageStats } from '../src/profile/stage-stats.js';
import { randomCheckpoint } from './random-checkpoint.js';
import { median } from './stats.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string' }, workers: { type: 'string', default: '1,2,3,4' }, runs: { type: 'string', default: '3' },
  prompts: { type: 'string', default: '32' }, 'prompt-len': { type: 'string', default: '32' }, 'new-tokens': { type: 'string', default: '64' },
  backend: { type: 'string', default: 'auto' }, shape: { type: 'string', default: 'gpt2-small' },
  dtype: { type: 'string', default: 'float32' }, quantization: { type: 'string', default: 'none' }, 'micro-batches': { type: 'string' }, out: { type: 'string', default: 'bench/results/scaling.json' },
  warmup: { type: 'string', default: '1' },
} });
const model = a.model ?? randomCheckpoint(a.shape);
const vocab = readModelConfig(`${model}/config.json`).vocabSize;
const nPrompts = Number(a.prompts), promptLen = Number(a['prompt-len']), newTokens = Number(a['new-tokens']);

function requests() {
  let s = 12345;
  const rnd = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s % Math.min(vocab, 50000); };
  return Array.from({ length: nPrompts }, (_, i) => ({
    id: `p${i}`, prompt_token_ids: Array.from({ length: promptLen }, rnd),
    sampling: { temperature: 0, max_tokens: newTokens, ignore_eos: true },
  }));
}

interface Run { tokPerS: number; wallS: number; rssMiB: number; stages: StageStats[]; decodeStages: StageStats[] }

type Layout = { workers?: number; stages?: number; replicas?: number; tensor?: number; microBatches?: number };

function parseLayout(item: string): Layout {
  if (/^\d+$/.test(item)) return { workers: Number(item) };
  const m = /^(?:s(\d+))?(?:r(\d+))?(?:t(\d+))?(?:k(\d+))?$/.exec(item);
  if (!m || item === '') throw new Error(`--workers item "${item}": expected a count or s<S>r<R>t<T>k<K> (each part optional)`);
  const [stages, replicas, tensor, microBatches] = m.slice(1).map((v) => (v ? Number(v) : undefined));
  return { stages, replicas, tensor, microBatches };
}

async function runOnce(item: string): Promise<{ run: Run; plan: string; backend: string; workers: number }> {
  const layout = parseLayout(item);
  if (a['micro-batches']) layout.microBatches ??= Number(a['micro-batches']);
  // the KV cache holds what the job needs, plus one block per sequence (its pages are committed up front)
  const kvCacheTokens = nPrompts * (promptLen + newTokens + 16);
  const e = await PipelineEngine.create(model, { ...layout, backend: a.backend, dtype: a.dtype as Dtype, quantization: a.quantization as Quantization, maxSeqs: nPrompts, maxBatchedTokens: 256, kvCacheTokens });
  // untimed warm-up runs of the same job: steady state, not the first touch of fresh KV pages
  // (this VM maps a new 2 MiB page in ~10 ms: that one-off cost would otherwise be most of
  // prefill, and it is serialized by the kernel, so it hides how the compute scales)
  for (let i = 0; i < Number(a.warmup); i++) await e.generate(requests());
  e.recordSpans = true;
  const t0 = performance.timeOrigin + performance.now();
  const out = await e.generate(requests());
  const t1 = performance.timeOrigin + performance.now();
  const generated = out.reduce((n, c) => n + (c.choices[0]?.token_ids.length ?? 0), 0);
  // steady decode: from the end of the last step holding prefill rows to the end
  const spans = e.stats.spans;
  const prefillEnd = Math.max(...spans.filter((s) => s.rows > nPrompts).map((s) => s.end), t0);
  const run: Run = {
    tokPerS: generated / ((t1 - t0) / 1000), wallS: (t1 - t0) / 1000, rssMiB: process.memoryUsage().rss / 2 ** 20,
    stages: stageStats(e.plan, spans, t0, t1), decodeStages: stageStats(e.plan, spans, prefillEnd, t1),
  };
  const info = { run, plan: describePlan(e.plan), backend: e.backend, workers: e.plan.workers };
  await e.close();
  return info;
}

const rows: Array<Record<string, unknown>> = [];
const counts = a.workers!.split(',');
counts.forEach(parseLayout);
// runs interleave the worker counts (1, 2, …, 1, 2, …) so that a slow drift of a shared machine
// hits every count alike instead of biasing whichever ran last
const runs = new Map<string, Run[]>(counts.map((w) => [w, []]));
const plans = new Map<string, { plan: string; backend: string; workers: number }>();
for (let r = 0; r < Number(a.runs); r++) {
  for (const w of counts) {
    const { run, plan, backend, workers } = await runOnce(w);
    runs.get(w)!.push(run);
    plans.set(w, { plan, backend, workers });
    process.stderr.write(`run ${r + 1}, ${w}: ${run.tokPerS.toFixed(1)} tok/s (${plan})\n`);
  }
}
for (const w of counts) {
  const rs = runs.get(w)!, { plan, backend, workers } = plans.get(w)!;
  const pick = (f: (r: Run) => number) => median(rs.map(f));
  rows.push({
    workers, plan, backend, tokPerS: pick((r) => r.tokPerS), wallS: pick((r) => r.wallS), rssMiB: pick((r) => r.rssMiB),
    busyPct: pick((r) => Math.min(...r.stages.map((s) => s.busyPct))), decodeBusyPct: pick((r) => Math.min(...r.decodeStages.map((s) => s.busyPct))),
    bubblePct: pick((r) => Math.max(...r.stages.map((s) => s.bubblePct))),
    decodeBarrierPct: pick((r) => Math.max(...r.decodeStages.map((s) => s.barrierPct))), runs: rs.map((r) => r.tokPerS),
  });
}
const base = rows[0].tokPerS as number;
const head = ['workers', 'layout', 'backend', 'gen tok/s', 'speedup', 'min stage busy %', 'decode busy %', 'decode barrier %', 'max bubble %', 'RSS MiB'];
const table = rows.map((r) => [String(r.workers), String(r.plan), String(r.backend), (r.tokPerS as number).toFixed(1), ((r.tokPerS as number) / base).toFixed(2) + '×',
  (r.busyPct as number).toFixed(1), (r.decodeBusyPct as number).toFixed(1), (r.decodeBarrierPct as number).toFixed(1), (r.bubblePct as number).toFixed(1), (r.rssMiB as number).toFixed(0)]);
const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
console.log(`${nPrompts} prompts × ${promptLen} tokens, ${newTokens} new tokens each, greedy, median of ${a.runs} interleaved runs`);
console.log([line(head), line(w.map((n) => '-'.repeat(n))), ...table.map(line)].join('\n'));
mkdirSync(dirname(a.out!), { recursive: true });
writeFileSync(a.out!, JSON.stringify({ date: new Date().toISOString(), nPrompts, promptLen, newTokens, rows }, null, 2));
