// With the same seed, outputs are byte-identical whatever the worker, stage, replica or
// tensor-parallel count,
// the batch composition or preemption (each row's arithmetic never depends on its batch).
import test from 'ava';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import type { Completion, GenerateRequest } from '../../src/engine/types.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import type { EngineOptions } from '../../src/runtime/options.js';
import { describePlan } from '../../src/pipeline/stage-plan.js';
import { randomCheckpoint } from '../helpers/random-checkpoint.js';

const MODEL = randomCheckpoint({ L: 4, H: 2, C: 32, V: 1000, P: 64, seed: 7 });

function requests(): GenerateRequest[] {
  return Array.from({ length: 16 }, (_, i) => ({
    id: `req-${i}`,
    prompt_token_ids: Array.from({ length: 1 + ((i * 5) % 19) }, (_, j) => (i * 97 + j * 31) % 999),
    sampling: { temperature: i % 4 === 0 ? 0 : 0.9, top_p: i % 3 ? 0.9 : 1, seed: 100 + i, max_tokens: 3 + (i % 11), ignore_eos: true },
  }));
}

let baseline: Completion[];
test.before(async () => {
  baseline = await LocalEngine.open(MODEL, { backend: 'reference' }).generate(requests());
});

async function runPipeline(opts: EngineOptions, reqs = requests()) {
  const e = await PipelineEngine.create(MODEL, { backend: 'reference', ...opts });
  try {
    return { out: await e.generate(reqs), plan: describePlan(e.plan), stats: { ...e.stats }, faults: [...e.executor.faults] };
  } finally {
    await e.close();
  }
}

const LAYOUTS: EngineOptions[] = [
  { stages: 1 }, { stages: 2 }, { stages: 3 }, { stages: 4 },
  { stages: 1, replicas: 2 }, { stages: 2, replicas: 2 }, { workers: 3 }, { stages: 2, headWorkers: 2 },
  { tensor: 2 }, { stages: 2, tensor: 2 }, { replicas: 2, tensor: 2 }, { tensor: 2, microBatches: 1 },
];

for (const layout of LAYOUTS) {
  test.serial(`identical outputs with ${JSON.stringify(layout)}`, async (t) => {
    const r = await runPipeline(layout);
    t.log(r.plan);
    t.deepEqual(r.out, baseline);
  });
}

test.serial('a request alone equals the same request inside the batch of 16 (2 stages)', async (t) => {
  const reqs = requests();
  for (const i of [3, 12]) {
    const r = await runPipeline({ stages: 2 }, [reqs[i]]);
    t.deepEqual(r.out[0], baseline[i]);
  }
});

test.serial('a KV pool too small for the batch forces preemption, outputs unchanged', async (t) => {
  // 4 blocks of 16 tokens: one full-context sequence fits, 16 requests cannot all run at once
  const r = await runPipeline({ stages: 2, kvCacheTokens: 64, maxSeqs: 8 });
  t.true(r.stats.preemptions > 0, `preemptions: ${r.stats.preemptions}`);
  t.deepEqual(r.out, baseline);
});

test.serial('a stage worker killed mid-job is replaced and the output is identical', async (t) => {
  const r = await runPipeline({ stages: 2, fault: { stage: 1, afterTasks: 4, mode: 'exit', count: 1 } });
  t.is(r.stats.retries, 1);
  t.true(r.faults.some((f) => /exited/.test(f)), r.faults.join('; '));
  t.deepEqual(r.out, baseline);
});

// A tensor-parallel rank that dies or throws leaves its partner waiting at a barrier: the abort
// must release it (no hang, no timeout) and the retry must give the same bytes.
for (const mode of ['exit', 'throw'] as const) {
  test.serial(`a tensor-parallel rank that ${mode === 'exit' ? 'dies' : 'throws'} mid-job: partner released, output identical`, async (t) => {
    const t0 = Date.now();
    const r = await runPipeline({ stages: 2, tensor: 2, fault: { stage: 1, afterTasks: 4, mode, count: 1 } });
    t.is(r.stats.retries, 1);
    t.true(r.faults.some((f) => (mode === 'exit' ? /exited/ : /injected fault in stage 1/).test(f)), r.faults.join('; '));
    t.false(r.faults.some((f) => /partner rank/.test(f)), `the cause is reported, not the released partner: ${r.faults.join('; ')}`);
    t.true(Date.now() - t0 < 30_000, 'no barrier timeout was needed');
    t.deepEqual(r.out, baseline);
  });
}

// one request carries a token that makes stage 0 throw every time it sees it; in a
// tensor-parallel stage the error named is the cause, not the partner rank the abort released
for (const [layout, bad, maxRetries] of [[{ stages: 2 }, 5, 2], [{ tensor: 2 }, 9, 1]] as const) {
  test.serial(`a fault that repeats fails only the request that causes it (${JSON.stringify(layout)})`, async (t) => {
    const reqs = requests();
    reqs[bad] = { ...reqs[bad], prompt_token_ids: [...reqs[bad].prompt_token_ids!, 999] };
    const r = await runPipeline({ ...layout, maxRetries, fault: { stage: 0, afterTasks: 0, mode: 'throw', count: 0, poisonToken: 999 } }, reqs);
    t.is(r.out[bad].error?.code, 'forward_failed');
    t.regex(r.out[bad].error?.message ?? '', new RegExp(`^request "req-${bad}": forward pass failed: micro-batch failed ${maxRetries + 1} times; last error: stage 0: injected fault in stage 0 \\(poison token 999\\)`));
    // its neighbours were rerun alone, succeeded, and equal the clean run
    r.out.forEach((c, i) => { if (i !== bad) t.deepEqual(c, baseline[i], `request ${i}`); });
  });
}
