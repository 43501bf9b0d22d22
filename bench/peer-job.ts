// pipegpt's half of the side-by-side with llama.cpp (bench/peer.ts): ONE fresh process running the
// peer's job once, printing one JSON line with the fields of the peer's job.mjs where they apply.
//   node dist/bench/peer-job.js --model DIR [--dtype float32|bfloat16|float16] [--quantization none|int8]
//                               [--kv-cache-dtype auto|float32|float16]
//                               [--workers 2] [--new 64] [--warm] [--check]
// The job (identical to job.mjs): 32 prompts × 32 token ids from the LCG below, 64 greedy new
// tokens each, EOS ignored. No warm-up: like job.mjs it measures a fresh process (first touch of
// the KV pages included). --warm runs the job a second time on the same engine and adds that run's
// figures as *_warm (steady state). --check then prints, like job.mjs --check, prompt 0 and its
// generated tokens, and a line with every prompt's generated tokens (to compare the engines' greedy output).
import { parseArgs } from 'node:util';
import { PipelineEngine } from '../src/runtime/pipeline-engine.js';
import { describePlan } from '../src/pipeline/stage-plan.js';
import type { Dtype, Quantization } from '../src/model/weight-format.js';
import type { KvCacheDtype } from '../src/kv/kv-store.js';
import { randomCheckpoint } from './random-checkpoint.js';

const GPT2_VOCAB = 50257, B = 32, T = 32;

/** job.mjs's ids(), copied as is (JS doubles: s·1103515245 stays below 2^53, so it is exact).
 *  V is 50257 for GPT-2 (the peer's job exactly); a smaller vocabulary (other --shape) takes mod V. */
function ids(V: number): number[] {
  const a = new Array(B * T); let s = 77;
  for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; a[i] = s % V; }
  return a;
}

function requests(vocab: number, newTokens: number) {
  const flat = ids(Math.min(GPT2_VOCAB, vocab));
  return Array.from({ length: B }, (_, b) => ({
    id: `p${b}`, prompt_token_ids: flat.slice(b * T, (b + 1) * T),
    sampling: { temperature: 0, max_tokens: newTokens, ignore_eos: true },
  }));
}

interface Timing { prefill_s: number; decode_s: number; gen_s: number; gen_tok_s: number }
interface JobRun { timing: Timing; prompts: number[][]; tokens: number[][] }

/** One generate() of the job: its wall time, split at the moment every prompt has its first token
 *  (job.mjs's prefill_s also ends there: its prefill step yields each sequence's first token). */
async function runJob(e: PipelineEngine, newTokens: number): Promise<JobRun> {
  const firsts = new Set<string>();
  let tFirst = 0;
  e.onToken = (id, _choice, idx, t) => { if (idx === 0 && !firsts.has(id)) { firsts.add(id); tFirst = Math.max(tFirst, t); } };
  const t0 = performance.now();
  const reqs = requests(e.config.vocabSize, newTokens);
  const out = await e.generate(reqs);
  const t1 = performance.now();
  e.onToken = undefined;
  const lens = out.map((c) => c.choices[0]?.token_ids.length ?? 0);
  if (lens.length !== B || lens.some((n) => n !== newTokens)) throw new Error(`bad generation output: lengths ${lens.join(',')}`);
  const gen = (t1 - t0) / 1000;
  const timing = {
    prefill_s: +((tFirst - t0) / 1000).toFixed(3), decode_s: +((t1 - tFirst) / 1000).toFixed(3),
    gen_s: +gen.toFixed(3), gen_tok_s: +((B * newTokens) / gen).toFixed(1),
  };
  return { timing, prompts: reqs.map((r) => r.prompt_token_ids), tokens: out.map((c) => c.choices[0].token_ids) };
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: {
    model: { type: 'string' }, dtype: { type: 'string', default: 'float32' }, quantization: { type: 'string', default: 'none' },
    'kv-cache-dtype': { type: 'string', default: 'auto' },
    workers: { type: 'string', default: '2' }, new: { type: 'string', default: '64' }, warm: { type: 'boolean', default: false },
    'max-batched-tokens': { type: 'string', default: '256' }, check: { type: 'boolean', default: false },
  } });
  const model = a.model ?? randomCheckpoint('gpt2-small');
  const newTokens = Number(a.new), workers = Number(a.workers);
  const t0 = performance.now();
  // prefix caching off: the prompts share no prefix, and with --warm the second run must redo
  // the same prefill rather than find the first run's KV blocks (llama.cpp's job has no such cache)
  const e = await PipelineEngine.create(model, {
    workers, dtype: a.dtype as Dtype, quantization: a.quantization as Quantization,
    kvCacheDtype: a['kv-cache-dtype'] as KvCacheDtype, maxSeqs: B,
    maxBatchedTokens: Number(a['max-batched-tokens']), kvCacheTokens: B * (T + newTokens + 16), enablePrefixCaching: false,
  });
  const load = (performance.now() - t0) / 1000;
  const first = await runJob(e, newTokens);
  // whole-process figures stop after the first job, as job.mjs's do (the --warm run is extra)
  const wall = performance.now() / 1000; // counts from performance.timeOrigin, the process start
  const rss = process.resourceUsage().maxRSS / 1024; // peak so far, whole process (all worker threads)
  const warm = a.warm ? (await runJob(e, newTokens)).timing : undefined;
  const result = {
    generated: B * newTokens, workers, plan: describePlan(e.plan), dtype: a.dtype, quantization: a.quantization, weight_format: e.format, kv_cache: e.kvFormat,
    backend: e.backend, kernel_path: e.kernelPath, max_batched_tokens: Number(a['max-batched-tokens']),
    load_s: +load.toFixed(3), ...first.timing,
    ...(warm && { prefill_s_warm: warm.prefill_s, decode_s_warm: warm.decode_s, gen_s_warm: warm.gen_s, gen_tok_s_warm: warm.gen_tok_s }),
    wall_s: +wall.toFixed(3), rss_mib: Math.round(rss),
  };
  await e.close();
  console.log(JSON.stringify(result));
  if (a.check) {
    console.log(JSON.stringify({ prompt0: first.prompts[0], generated0: first.tokens[0] }));
    console.log(JSON.stringify({ generated: first.tokens }));
  }
}

await main();
