// Every pipeline layout gives byte-identical outputs for the Llama families too: stages,
// replicas, tensor-parallel ranks (query heads shared out evenly, RoPE and q/k norm per rank), a split
// head, and preemption, against the in-thread engine. Cases: Qwen3 (q/k norm, head_dim 16 ≠
// hidden/heads, GQA 4/2, tied), Mistral (sliding window 8 < context, GQA 4/2, untied head), and a
// random Qwen3 with 32-channel heads in int8 (so a q8 KV cache).
import test from 'ava';
import type { Completion, GenerateRequest } from '../../src/engine/types.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import type { EngineOptions } from '../../src/runtime/options.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import { ckptDir } from '../helpers/paths.js';
import { randomQwen3Checkpoint } from '../helpers/random-checkpoint.js';

function requests(V: number): GenerateRequest[] {
  return Array.from({ length: 12 }, (_, i) => ({
    id: `req-${i}`,
    prompt_token_ids: Array.from({ length: 1 + ((i * 5) % 23) }, (_, j) => (i * 97 + j * 31) % V),
    sampling: { temperature: i % 3 === 0 ? 0 : 0.9, top_p: i % 2 ? 0.9 : 1, seed: 100 + i, max_tokens: 4 + (i % 13), ignore_eos: true },
  }));
}

const LAYOUTS: EngineOptions[] = [
  { stages: 2 }, { replicas: 2 }, { tensor: 2 }, { stages: 2, tensor: 2 }, { stages: 2, headWorkers: 2 },
  { stages: 2, kvCacheTokens: 64, maxSeqs: 6 }, // one context of 64 tokens: forces preemption
];

for (const [name, V, backend] of [['qwen3-f16', 768, 'reference'], ['mistral-window', 600, 'reference'], ['qwen3-f16', 768, 'native']] as const) {
  const model = ckptDir(name);
  let baseline: Completion[] | null = null;
  const base = async () => (baseline ??= await LocalEngine.open(model, { backend }).generate(requests(V)));

  for (const layout of LAYOUTS) {
    test.serial(`[${backend}] ${name}: identical outputs with ${JSON.stringify(layout)}`, async (t) => {
      const want = await base();
      t.true(want.every((c) => c.error === null && c.choices[0].token_ids.length > 0));
      const e = await PipelineEngine.create(model, { backend, ...layout });
      try {
        t.deepEqual(await e.generate(requests(V)), want);
        if (layout.kvCacheTokens) t.true(e.stats.preemptions > 0, `preemptions: ${e.stats.preemptions}`);
      } finally {
        await e.close();
      }
    });
  }
}

// The q8 KV cache (auto with int8 weights) in a Llama-family shape: GQA 4/2 with 32-channel heads,
// RoPE and q/k norm before the cache write, ranks split by KV-head groups, forks and preemption.
{
  const model = randomQwen3Checkpoint({ L: 3, NH: 4, NKV: 2, D: 32, C: 64, I: 128, V: 500, P: 64, seed: 7 });
  const opts: EngineOptions = { backend: 'native', quantization: 'int8' };
  let baseline: Completion[] | null = null;
  const base = async () => (baseline ??= await LocalEngine.open(model, opts).generate(requests(500)));
  for (const layout of LAYOUTS.slice(0, 3).concat(LAYOUTS.slice(5))) {
    test.serial(`[native] random qwen3, int8 weights and q8 KV cache: identical outputs with ${JSON.stringify(layout)}`, async (t) => {
      const want = await base();
      t.true(want.every((c) => c.error === null && c.choices[0].token_ids.length > 0));
      const e = await PipelineEngine.create(model, { ...opts, ...layout });
      try {
        t.is(e.kvFormat, 'q8');
        t.deepEqual(await e.generate(requests(500)), want);
        if (layout.kvCacheTokens) t.true(e.stats.preemptions > 0, `preemptions: ${e.stats.preemptions}`);
      } finally {
        await e.close();
      }
    });
  }
}

// Tensor-parallel ranks whose query heads split a KV group (rankShares: heads shared out evenly,
// a straddling group's k and v computed and cached by every rank that reads it, the same bytes):
// SmolLM2-like 9 heads in 3 groups (2 ranks: heads 0–3 | 4–8, both read group 1), Qwen2-like 7 in 1
// (every rank reads group 0), and 3 heads in 1 group of 32 channels in int8, so a q8 cache whose
// blocks two ranks write alike.
{
  const q8 = randomQwen3Checkpoint({ L: 2, NH: 3, NKV: 1, D: 32, C: 64, I: 128, V: 500, P: 64, seed: 11 });
  const cases: Array<[string, string, number, EngineOptions]> = [
    ['llama-smollm2 (9/3)', ckptDir('llama-smollm2'), 640, { backend: 'native' }],
    ['qwen2-bf16-sharded (7/1)', ckptDir('qwen2-bf16-sharded'), 512, { backend: 'native' }],
    ['random qwen3 (3/1), int8 and q8 KV cache', q8, 500, { backend: 'native', quantization: 'int8' }],
  ];
  for (const [name, model, V, opts] of cases) {
    let baseline: Completion[] | null = null;
    const base = async () => (baseline ??= await LocalEngine.open(model, opts).generate(requests(V)));
    for (const layout of [{ tensor: 2 }, { tensor: 3 }, { stages: 2, tensor: 2 }] as EngineOptions[]) {
      test.serial(`[native] ${name}: identical outputs with ${JSON.stringify(layout)}, query heads splitting a KV group`, async (t) => {
        const want = await base();
        t.true(want.every((c) => c.error === null && c.choices[0].token_ids.length > 0));
        const e = await PipelineEngine.create(model, { ...opts, ...layout });
        try {
          t.deepEqual(await e.generate(requests(V)), want);
        } finally {
          await e.close();
        }
      });
    }
  }
}
