// Structured outputs: constrained vs unconstrained generated tokens/s on the bench job (a random
// GPT-2-small-shape checkpoint, --prompts prompts of --prompt-len token ids, up to --new-tokens
// new tokens, greedy), the constrained job under a small schema whose free-text field keeps the
// (random) model generating. Same engine for both; runs interleave; medians. The constrained
// runs also report compile and mask time (the coordinator's share of the cost).
//   node dist/bench/structured.js --runs 3 --workers 1
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Completion, GenerateRequest } from '../src/engine/types.js';
import { PipelineEngine } from '../src/runtime/pipeline-engine.js';
import { randomCheckpoint } from './random-checkpoint.js';
import { median } from './stats.js';

const { values: a } = parseArgs({ options: {
  shape: { type: 'string', default: 'gpt2-small' }, runs: { type: 'string', default: '3' }, workers: { type: 'string', default: '1' },
  prompts: { type: 'string', default: '32' }, 'prompt-len': { type: 'string', default: '32' }, 'new-tokens': { type: 'string', default: '64' },
  out: { type: 'string', default: 'bench/results/structured.json' },
} });
const num = (k: keyof typeof a) => Number(a[k]);
const model = randomCheckpoint(a.shape);

// a labelling schema: two closed fields, then a reason a real model would keep short
export const SCHEMA = {
  type: 'object', required: ['label', 'score', 'reason'],
  properties: { label: { enum: ['positive', 'negative', 'neutral'] }, score: { type: 'integer', minimum: 0, maximum: 100 }, reason: { type: 'string', maxLength: 400 } },
};

function requests(constrained: boolean): GenerateRequest[] {
  let s = 77;
  const ids = () => Array.from({ length: num('prompt-len') }, () => { s = (s * 1103515245 + 12345) % 2147483648; return s % 50257; });
  return Array.from({ length: num('prompts') }, (_, i) => ({
    id: `p${i}`, prompt_token_ids: ids(),
    sampling: {
      temperature: 0, max_tokens: num('new-tokens'), ignore_eos: !constrained,
      ...(constrained ? { response_format: { type: 'json_schema', json_schema: { name: 'label', schema: SCHEMA } } } : {}),
    },
  }));
}

interface Run { tokPerS: number; tokens: number; wallS: number; stops: number; maskMs: number; compileMs: number }

async function runOnce(e: PipelineEngine, constrained: boolean): Promise<Run> {
  const before = { ...(e.stats.structured ?? { maskMs: 0, compileMs: 0 }) };
  const gen0 = e.stats.generatedTokens, t0 = performance.now();
  const out: Completion[] = await e.generate(requests(constrained));
  const wallS = (performance.now() - t0) / 1000, tokens = e.stats.generatedTokens - gen0;
  const after = e.stats.structured ?? { maskMs: 0, compileMs: 0 };
  return {
    tokPerS: tokens / wallS, tokens, wallS, stops: out.filter((c) => c.choices[0]?.finish_reason === 'stop').length,
    maskMs: after.maskMs - before.maskMs, compileMs: after.compileMs - before.compileMs,
  };
}

async function main(): Promise<void> {
  const e = await PipelineEngine.create(model, { workers: num('workers'), maxSeqs: num('prompts'), kvCacheTokens: num('prompts') * (num('prompt-len') + num('new-tokens') + 16) });
  const runs: Record<'free' | 'json', Run[]> = { free: [], json: [] };
  try {
    await runOnce(e, false); // warm-up: KV pages mapped, kernels hot
    const warm = await runOnce(e, true); // the schema's one compile happens here, outside the timed runs
    process.stderr.write(`schema compiled in ${warm.compileMs.toFixed(0)} ms (once per job)\n`);
    for (let r = 0; r < num('runs'); r++) {
      runs.free.push(await runOnce(e, false));
      runs.json.push(await runOnce(e, true));
    }
  } finally {
    await e.close();
  }
  const med = (xs: Run[], k: keyof Run) => median(xs.map((x) => x[k]));
  const free = med(runs.free, 'tokPerS'), json = med(runs.json, 'tokPerS');
  const maskUs = (1000 * med(runs.json, 'maskMs')) / med(runs.json, 'tokens');
  console.log(`${a.shape}, ${num('workers')} worker(s), ${num('prompts')} prompts × ${num('prompt-len')} tokens, ≤ ${num('new-tokens')} new, greedy; median of ${num('runs')}`);
  console.log(`unconstrained: ${free.toFixed(1)} tok/s`);
  console.log(`json_schema:   ${json.toFixed(1)} tok/s (${med(runs.json, 'tokens')} tokens, ${med(runs.json, 'stops')}/${num('prompts')} ended by the grammar; masks ${maskUs.toFixed(0)} µs per token)`);
  console.log(`ratio constrained / unconstrained: ${(json / free).toFixed(3)} (target ≥ 0.9)`);
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify({ args: a, schema: SCHEMA, runs, median: { free, json, ratio: json / free, mask_us_per_token: maskUs } }, null, 2));
}

await main();
