// Prefix caching and n > 1 benchmark on a random checkpoint of a real shape (bench/random-checkpoint.ts):
//  (a) --requests N requests sharing a --system-len token system prompt, each with its own
//      --user-len tokens and --new-tokens new tokens: whole time with the prefix cache on and off,
//      prompt tokens computed vs cached;
//  (b) --n-requests requests of --prompt-len tokens with n = --n vs n = 1: whole time (forks on),
//      and with --forks-off also n = --n with forks and the cache off (every choice prefills its
//      prompt: the behaviour before; n times the prefill, so it is slow and opt-in).
// Part (b) is short, so each case first runs an untimed warm-up job of the same shape with other
// tokens (no hits): it maps the KV pages (~10 ms per fresh 2 MiB page on this VM), which would
// otherwise weigh more than the compute; part (a)'s times include that one-off cost.
//   node dist/bench/prefix.js --requests 200 --runs 3 [--part a|b] [--workers 1] [--shape gpt2-small]
// Runs interleave the cases so a drifting shared machine hits them alike; medians are printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { GenerateRequest } from '../src/engine/types.js';
import { readModelConfig } from '../src/model/config.js';
import type { EngineOptions } from '../src/runtime/options.js';
import { PipelineEngine } from '../src/runtime/pipeline-engine.js';
import { randomCheckpoint } from './random-checkpoint.js';
import { median } from './stats.js';

const { values: a } = parseArgs({ options: {
  shape: { type: 'string', default: 'gpt2-small' }, part: { type: 'string', default: 'ab' }, runs: { type: 'string', default: '3' },
  workers: { type: 'string', default: '1' }, backend: { type: 'string', default: 'auto' },
  requests: { type: 'string', default: '200' }, 'system-len': { type: 'string', default: '512' }, 'user-len': { type: 'string', default: '32' },
  'new-tokens': { type: 'string', default: '16' }, 'n-requests': { type: 'string', default: '16' }, n: { type: 'string', default: '8' },
  'prompt-len': { type: 'string', default: '512' }, 'forks-off': { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results/prefix.json' },
} });
const model = randomCheckpoint(a.shape);
const vocab = Math.min(readModelConfig(`${model}/config.json`).vocabSize, 50000);
const num = (k: keyof typeof a) => Number(a[k]);

function tokens(seed: number, n: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s % vocab; });
}

const sampling = (n: number) => ({ temperature: n > 1 ? 0.8 : 0, max_tokens: num('new-tokens'), ignore_eos: true, n, seed: 1 });

function sharedSystem(): GenerateRequest[] {
  const system = tokens(1, num('system-len'));
  return Array.from({ length: num('requests') }, (_, i) => ({ id: `r${i}`, prompt_token_ids: [...system, ...tokens(1000 + i, num('user-len'))], sampling: sampling(1) }));
}

const manyChoices = (n: number, salt = 0): GenerateRequest[] => Array.from({ length: num('n-requests') }, (_, i) => ({
  id: `q${i}`, prompt_token_ids: tokens(5000 + i + salt, num('prompt-len')), sampling: { ...sampling(n), temperature: 0.8 },
}));

interface Case { name: string; opts: EngineOptions; requests: () => GenerateRequest[]; warmup?: () => GenerateRequest[] }
interface Result { wallS: number; computed: number; cached: number; generated: number }

const warm = new Map<string, { computed: number; cached: number }>();

async function runCase(c: Case): Promise<Result> {
  const reqs = c.requests(), seqs = reqs.reduce((k, r) => k + (r.sampling!.n as number), 0);
  const longest = Math.max(...reqs.map((r) => r.prompt_token_ids!.length)) + num('new-tokens');
  // (a) 32 sequences at once (the default); (b) every choice at once. The same cache for every case
  // of a part: 32 full requests for (a), twice the n = 1 prompts for (b) (forks share the prompts)
  const partA = c.name.startsWith('a'), maxSeqs = Math.min(seqs, partA ? 32 : 128);
  const kvCacheTokens = (partA ? 32 : 2 * num('n-requests')) * (longest + 16);
  const e = await PipelineEngine.create(model, { workers: num('workers'), backend: a.backend, maxSeqs, maxBatchedTokens: 256, kvCacheTokens, ...c.opts });
  try {
    if (c.warmup) await e.generate(c.warmup());
    e.stats.generatedTokens = 0;
    warm.set(c.name, { computed: e.stats.promptTokensComputed, cached: e.stats.promptTokensCached });
    const t0 = performance.now();
    const out = await e.generate(reqs);
    const wallS = (performance.now() - t0) / 1000;
    if (out.some((o) => o.error)) throw new Error(`${c.name}: ${out.find((o) => o.error)!.error!.message}`);
    const before = warm.get(c.name) ?? { computed: 0, cached: 0 };
    return { wallS, computed: e.stats.promptTokensComputed - before.computed, cached: e.stats.promptTokensCached - before.cached, generated: e.stats.generatedTokens };
  } finally {
    await e.close();
  }
}

const cases: Case[] = [];
if (a.part!.includes('a')) {
  cases.push({ name: 'a: cache off', opts: { enablePrefixCaching: false }, requests: sharedSystem },
    { name: 'a: cache on', opts: { enablePrefixCaching: true }, requests: sharedSystem });
}
if (a.part!.includes('b')) {
  const n = num('n');
  cases.push({ name: 'b: n = 1', opts: {}, requests: () => manyChoices(1), warmup: () => manyChoices(1, 100) },
    { name: `b: n = ${n}`, opts: {}, requests: () => manyChoices(n), warmup: () => manyChoices(n, 100) });
  if (a['forks-off']) cases.push({ name: `b: n = ${n}, forks and cache off`, opts: { forkChoices: false, enablePrefixCaching: false }, requests: () => manyChoices(n) });
}
const runs = new Map<string, Result[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < num('runs'); r++) {
  for (const c of cases) {
    const res = await runCase(c);
    runs.get(c.name)!.push(res);
    process.stderr.write(`run ${r + 1}, ${c.name}: ${res.wallS.toFixed(2)} s, prompt tokens ${res.computed} computed / ${res.cached} cached\n`);
  }
}
const rows = cases.map((c) => {
  const rs = runs.get(c.name)!;
  return { case: c.name, wallS: median(rs.map((x) => x.wallS)), computed: rs[0].computed, cached: rs[0].cached, generated: rs[0].generated, runs: rs.map((x) => x.wallS) };
});
console.log(`${a.shape} (random weights), ${a.workers} worker(s), median of ${a.runs} interleaved runs`);
console.log('| case | whole time (s) | prompt tokens computed | cached | generated | runs (s) |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.case} | ${r.wallS.toFixed(2)} | ${r.computed} | ${r.cached} | ${r.generated} | ${r.runs.map((x) => x.toFixed(2)).join(', ')} |`);
const ratio = (x: string, y: string) => { const p = rows.find((r) => r.case === x), q = rows.find((r) => r.case === y); return p && q ? p.wallS / q.wallS : undefined; };
const speedup = ratio('a: cache off', 'a: cache on'), cost = ratio(`b: n = ${a.n}`, 'b: n = 1');
if (speedup) console.log(`(a) cache on is ${speedup.toFixed(2)}× faster than off`);
const before = ratio(`b: n = ${a.n}, forks and cache off`, 'b: n = 1');
if (cost) console.log(`(b) n = ${a.n} costs ${cost.toFixed(2)}× n = 1${before ? ` (forks and cache off: ${before.toFixed(2)}×)` : ''}`);
mkdirSync(dirname(a.out!), { recursive: true });
writeFileSync(a.out!, JSON.stringify({ date: new Date().toISOString(), args: a, rows }, null, 2));
