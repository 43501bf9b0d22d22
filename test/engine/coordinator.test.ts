// The coordinator driven by a fake executor (no model, no workers): the executor writes logits
// whose argmax is a known function of the row's last token, so every generated id is predictable;
// it can also fail steps or produce unusable rows. Checks continuous batching bookkeeping,
// per-request failures, and that one bad request never sinks its neighbours.
import test from 'ava';
import { Coordinator, type CoordinatorOptions } from '../../src/engine/coordinator.js';
import type { Executor, StepResult } from '../../src/engine/executor.js';
import { BlockPool, BlockTables } from '../../src/kv/block-pool.js';
import { parseModelConfig, type ModelConfig } from '../../src/model/config.js';
import { viewBatchSlots, type BatchSlot } from '../../src/model/workspace.js';
import { sharedTokenizer } from '../../src/tokenizer/gpt2.js';

const V = 64;
const config: ModelConfig = parseModelConfig({ n_layer: 1, n_head: 1, n_embd: 8, n_positions: 128, vocab_size: V, eos_token_id: 63 }, 'test');
const next = (tok: number) => (tok * 7 + 3) % 50; // never the EOS id 63, nor 7, 9 or 42

class FakeExecutor implements Executor {
  readonly slots: BatchSlot[];
  readonly backend = 'fake';
  readonly headParts = 1;
  steps = 0;
  rows = 0;
  constructor(readonly maxTokens: number, readonly maxLogitRows: number, count: number,
    private readonly behave: (tokens: number[]) => 'ok' | 'throw' | 'nan' = () => 'ok') {
    this.slots = viewBatchSlots(config, { maxTokens, maxLogitRows, count }).slots;
  }
  async run(k: number, n: number): Promise<StepResult> {
    this.steps++;
    this.rows += n;
    const s = this.slots[k];
    const mode = this.behave(Array.from(s.tokens.subarray(0, n)));
    if (mode === 'throw') throw new Error('injected');
    let m = 0;
    for (let r = 0; r < n; r++) {
      if (!s.needsLogits[r]) continue;
      const row = s.logits.subarray(m * V, (m + 1) * V), bad = mode === 'nan' && s.tokens[r] === 9; // only the poisoned row
      row.fill(bad ? -Infinity : 0);
      if (!bad) row[next(s.tokens[r])] = 5;
      s.argIdx[m] = bad ? 0 : next(s.tokens[r]);
      s.argMax[m] = bad ? NaN : 5;
      m++;
    }
    await new Promise((r) => setImmediate(r)); // steps overlap: several slots in flight
    return { m, spans: [], retries: 0 };
  }
  async close(): Promise<void> {}
}

function coordinator(exec: FakeExecutor, blocks = 64, opts: CoordinatorOptions = {}) {
  const tables = new BlockTables(new BlockPool(blocks), 4, 8, 32);
  return { tables, c: new Coordinator(exec, config, tables, sharedTokenizer(), 0, opts) };
}

const greedy = (max_tokens: number) => ({ temperature: 0, max_tokens, ignore_eos: true });
function expected(prompt: number[], n: number): number[] {
  const out: number[] = [];
  let t = prompt[prompt.length - 1];
  for (let i = 0; i < n; i++) out.push((t = next(t)));
  return out;
}

test('every request gets exactly its predicted tokens across overlapping micro-batches', async (t) => {
  const exec = new FakeExecutor(16, 4, 3);
  const { c, tables } = coordinator(exec);
  const prompts = Array.from({ length: 10 }, (_, i) => Array.from({ length: 1 + (i % 5) }, (_, j) => (i * 5 + j) % 50));
  const out = await c.generate(prompts.map((p, i) => ({ id: `r${i}`, prompt_token_ids: p, sampling: greedy(3 + i) })));
  out.forEach((o, i) => t.deepEqual(o.choices[0].token_ids, expected(prompts[i], 3 + i), `r${i}`));
  t.is(c.stats.generatedTokens, prompts.reduce((a, _, i) => a + 3 + i, 0));
  t.is(tables.pool.numFree, 64); // every block back
});

test('a request whose rows always fail gets forward_failed; the requests batched with it finish', async (t) => {
  const exec = new FakeExecutor(16, 4, 2, (tokens) => (tokens.includes(42) ? 'throw' : 'ok'));
  const { c, tables } = coordinator(exec);
  const out = await c.generate([
    { id: 'ok1', prompt_token_ids: [1, 2], sampling: greedy(4) },
    { id: 'bad', prompt_token_ids: [42, 1], sampling: greedy(4) },
    { id: 'ok2', prompt_token_ids: [3], sampling: greedy(4) },
  ]);
  t.deepEqual(out[0].choices[0].token_ids, expected([1, 2], 4));
  t.deepEqual(out[2].choices[0].token_ids, expected([3], 4));
  t.is(out[1].error?.code, 'forward_failed');
  t.regex(out[1].error?.message ?? '', /^request "bad": forward pass failed: injected/);
  t.is(tables.pool.numFree, 64);
});

test('a row with no usable logit fails its request with a message; the sampler never emits -1', async (t) => {
  const exec = new FakeExecutor(16, 4, 1, (tokens) => (tokens.includes(9) ? 'nan' : 'ok'));
  const { c } = coordinator(exec);
  const out = await c.generate([
    { id: 'nan', prompt_token_ids: [9], sampling: { temperature: 1, max_tokens: 3 } },
    { id: 'nan-greedy', prompt_token_ids: [9, 9], sampling: { temperature: 0, max_tokens: 3, logprobs: 1 } },
    { id: 'fine', prompt_token_ids: [4], sampling: greedy(3) },
  ]);
  t.is(out[0].error?.code, 'internal_error');
  t.regex(out[0].error?.message ?? '', /every logit of the row is -Infinity or NaN/);
  t.is(out[1].error?.code, 'internal_error');
  t.deepEqual(out[2].choices[0].token_ids, expected([4], 3));
});

test('n choices of one request fail together when one of them fails, and free their blocks', async (t) => {
  let calls = 0;
  const exec = new FakeExecutor(16, 4, 2, (tokens) => (tokens.includes(7) && ++calls > 1 ? 'throw' : 'ok'));
  const { c, tables } = coordinator(exec);
  const [r] = await c.generate([{ id: 'multi', prompt_token_ids: [7], sampling: { temperature: 1, max_tokens: 5, n: 3 } }]);
  t.is(r.error?.code, 'forward_failed');
  t.deepEqual(r.choices, []);
  await new Promise((res) => setTimeout(res, 50)); // siblings still in flight release their blocks when their steps return
  t.is(tables.pool.numFree, 64);
});

test('a request larger than the whole cache is refused with kv_cache_too_small and the numbers', async (t) => {
  const exec = new FakeExecutor(16, 4, 1);
  const { c } = coordinator(exec, 4); // 4 blocks of 4 tokens
  const [big, small] = await c.generate([
    { id: 'big', prompt_token_ids: [1, 2, 3], sampling: greedy(20) },
    { id: 'small', prompt_token_ids: [1], sampling: greedy(2) },
  ]);
  t.is(big.error?.code, 'kv_cache_too_small');
  t.regex(big.error?.message ?? '', /needs up to 23 tokens of KV cache .* holds only 16 tokens/);
  t.deepEqual(small.choices[0].token_ids, expected([1], 2));
});

test('n > 1: the prompt is computed once and each other choice computes its last token only; the cache serves the next request', async (t) => {
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const prefixCaching of [true, false]) {
    const exec = new FakeExecutor(16, 4, 1);
    const { c, tables } = coordinator(exec, 64, { prefixCaching });
    const [multi] = await c.generate([{ id: 'multi', prompt_token_ids: prompt, sampling: { temperature: 1, max_tokens: 2, n: 3 } }]);
    t.is(multi.choices.length, 3);
    // choice 0: 9 prompt rows + 1 decode row; choices 1, 2: 1 prompt row + 1 decode row each
    t.is(exec.rows, 9 + 1 + 2 * (1 + 1));
    t.deepEqual([c.stats.promptTokensComputed, c.stats.promptTokensCached], [9 + 1 + 1, 8 + 8]);
    const [again] = await c.generate([{ id: 'again', prompt_token_ids: prompt, sampling: greedy(1) }]);
    t.is(again.num_cached_tokens, prefixCaching ? 8 : 0);
    t.deepEqual(again.choices[0].token_ids, expected(prompt, 1));
    t.is(tables.pool.numFree, 64);
  }
});
