// Prefix caching and n > 1 forks never change a token: requests sharing long prefixes (some with
// n > 1) give byte-identical outputs with the cache on and off, forks on and off, in several
// worker layouts and under forced preemption. The baseline is the in-thread engine computing
// every prompt of every choice in full (no cache, no forks: the behaviour before either).
import test from 'ava';
import type { Completion, GenerateRequest } from '../../src/engine/types.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import type { EngineOptions } from '../../src/runtime/options.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import { randomCheckpoint } from '../helpers/random-checkpoint.js';

const MODEL = randomCheckpoint({ L: 4, H: 2, C: 32, V: 1000, P: 64, seed: 7 });
const PREFIXES = [0, 1].map((p) => Array.from({ length: 35 }, (_, j) => (p * 389 + j * 53) % 999));

function requests(): GenerateRequest[] {
  return Array.from({ length: 16 }, (_, i) => ({
    id: `req-${i}`,
    prompt_token_ids: [...PREFIXES[i % 2], ...Array.from({ length: 1 + (i % 7) }, (_, j) => (i * 97 + j * 31) % 999)],
    sampling: { temperature: i % 4 === 0 ? 0 : 0.9, top_p: i % 3 ? 0.9 : 1, seed: 100 + i, max_tokens: 3 + (i % 11), ignore_eos: true, n: i % 4 === 0 ? 1 : 1 + (i % 3) },
  }));
}

/** Outputs without num_cached_tokens (metadata: what the cache saved, not what was generated). */
const tokensOnly = (out: Completion[]) => out.map(({ num_cached_tokens: _, ...c }) => c);

let baseline: Completion[];
test.before(async () => {
  baseline = await LocalEngine.open(MODEL, { backend: 'reference', enablePrefixCaching: false, forkChoices: false }).generate(requests());
  const bad = baseline.find((c) => c.error !== null || c.num_cached_tokens !== 0);
  if (bad) throw new Error(`baseline failed: ${JSON.stringify(bad).slice(0, 300)}`);
});

async function runPipeline(opts: EngineOptions) {
  const e = await PipelineEngine.create(MODEL, { backend: 'reference', ...opts });
  try {
    return { out: await e.generate(requests()), stats: { ...e.stats } };
  } finally {
    await e.close();
  }
}

const CASES: EngineOptions[] = [
  {}, { stages: 2 }, { replicas: 2 }, { tensor: 2 }, { stages: 2, tensor: 2 }, { stages: 2, headWorkers: 2 },
  { stages: 2, enablePrefixCaching: false }, { tensor: 2, forkChoices: false },
];

for (const opts of CASES) {
  test.serial(`identical outputs with ${JSON.stringify(opts)}`, async (t) => {
    const r = await runPipeline(opts);
    t.deepEqual(tokensOnly(r.out), tokensOnly(baseline));
    const cached = r.stats.promptTokensCached, prompt = requests().reduce((a, q) => a + q.prompt_token_ids!.length * ((q.sampling!.n as number)), 0);
    t.is(r.stats.promptTokensComputed + cached, prompt);
    t.true(cached > 0, `cached ${cached}`); // something was shared: hits, forks, or both
    t.log(`prompt tokens ${prompt}: ${r.stats.promptTokensComputed} computed, ${cached} cached`);
  });
}

test.serial('the cache on, in the in-thread engine: every request after the first of each prefix hits 32 tokens', async (t) => {
  const e = LocalEngine.open(MODEL, { backend: 'reference' });
  const out = await e.generate(requests());
  t.deepEqual(tokensOnly(out), tokensOnly(baseline));
  t.deepEqual(out.map((c) => c.num_cached_tokens), [0, 0, ...Array(14).fill(32)]);
});

test.serial('a KV pool too small for the batch forces preemption of sequences holding shared blocks, outputs unchanged', async (t) => {
  for (const enablePrefixCaching of [true, false]) {
    const r = await runPipeline({ stages: 2, kvCacheTokens: 64, maxSeqs: 8, enablePrefixCaching });
    t.true(r.stats.preemptions > 0, `preemptions: ${r.stats.preemptions}`);
    t.deepEqual(tokensOnly(r.out), tokensOnly(baseline));
  }
});
