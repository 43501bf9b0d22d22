// The engine against the independent numpy references, on random checkpoints of every family in
// every supported layout. GPT-2 (tools/make_golden.py): F32; F16 with "transformer." prefix, mask
// buffers and a tied lm_head; BF16 sharded with an explicit n_inner. Llama families
// (tools/make_golden_llama.py, cross-checked against HF transformers): SmolLM2 (GQA 9/3), Qwen2.5
// (q/k/v biases, BF16 sharded), Qwen3 (q/k norm, head_dim ≠ hidden/heads), Llama 3.2 (llama3 rope
// scaling, untied), Mistral (sliding window), TinyLlama (linear rope scaling, every bias).
// Tolerance: max|Δ|/max|ref| ≤ 1e-4. The references keep K/V in full precision, so these engines
// use an f32 KV cache; 16-bit checkpoints, whose auto cache is f16, are also checked with it (1e-3).
import test from 'ava';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { scoreTokens, sequenceLogits } from '../../src/engine/score.js';
import { assertClose } from '../helpers/assert-close.js';
import { readGolden } from '../helpers/golden.js';
import { CKPT_CASES, LLAMA_CASES, ckptDir } from '../helpers/paths.js';
import { backendStatus } from '../../src/kernels/register-all.js';

const TOL = 1e-4;

// every CPU backend that loads here; gpujs runs the same checks per mode in test/kernels/gpujs-modes.test.ts
const BACKENDS = backendStatus().filter((b) => b.name !== 'gpujs');
for (const b of BACKENDS.filter((x) => !x.available)) test.skip(`[${b.name}] whole-model golden tests (backend unavailable: ${b.reason})`, () => {});

for (const { name: backend } of BACKENDS.filter((x) => x.available)) for (const name of [...CKPT_CASES, ...LLAMA_CASES]) {
  const g = readGolden(name);
  const engine = LocalEngine.open(ckptDir(name), { maxBatchedTokens: 7, backend, kvCacheDtype: 'float32' }); // 7: prompts span several chunks

  test(`[${backend}] ${name}: logits at every position match the numpy reference`, (t) => {
    const logits = sequenceLogits(engine, g.prompt_ids);
    t.is(logits.length, g.logits.length);
    logits.forEach((row, i) => assertClose(t, row, g.logits[i], TOL, `${name} position ${i}`));
  });

  test(`[${backend}] ${name}: greedy continuation equals the reference token for token`, async (t) => {
    const [c] = await engine.generate([{ id: 'g', prompt_token_ids: g.greedy.prompt_ids,
      sampling: { temperature: 0, max_tokens: g.greedy.max_tokens, ignore_eos: true } }]);
    t.is(c.error, null);
    t.deepEqual(c.choices[0].token_ids, g.greedy.ids);
    t.is(c.choices[0].finish_reason, 'length');
  });

  test(`[${backend}] ${name}: sliding-window scores match the reference`, (t) => {
    const r = scoreTokens(engine, g.score.ids, g.score.stride);
    t.is(r.n_scored, g.score.n_scored);
    t.is(r.n_scored, g.score.ids.length - 1);
    assertClose(t, r.token_logprobs, g.score.token_logprobs, TOL, `${name} token_logprobs`);
    t.true(Math.abs(r.mean_nll - g.score.mean_nll) <= 1e-4 * g.score.mean_nll);
  });
}

// kv_cache_dtype auto: 16-bit weights get an f16 cache, a little further from the f64 references
for (const name of [...CKPT_CASES, ...LLAMA_CASES]) {
  const first = BACKENDS.find((x) => x.available);
  if (!first) break;
  test(`[${first.name}] ${name}: with the auto KV cache (f16 for 16-bit weights) logits stay within 1e-3 of the numpy reference`, (t) => {
    const g = readGolden(name), engine = LocalEngine.open(ckptDir(name), { backend: first.name });
    t.log(`KV cache ${engine.memory.kvFormat}`);
    sequenceLogits(engine, g.prompt_ids).forEach((row, i) => assertClose(t, row, g.logits[i], 1e-3, `${name} position ${i}`));
  });
}
