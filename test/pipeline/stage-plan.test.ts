// How N workers map to stages × replicas × tensor-parallel ranks, by the cost model in
// src/pipeline/stage-plan.ts.
import test from 'ava';
import { UsageError } from '../../src/errors.js';
import { parseModelConfig } from '../../src/model/config.js';
import { balancedSplit, describePlan, headCost, planStages } from '../../src/pipeline/stage-plan.js';

const gpt2 = parseModelConfig({ n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 }, 'gpt2');
const tiny = parseModelConfig({ n_layer: 4, n_head: 4, n_embd: 128, n_positions: 256, vocab_size: 50257 }, 'tiny');

test('the GPT-2 small head weighs about 5.4 blocks; the tiny model\'s far more than its 4 blocks', (t) => {
  t.is(Math.round(headCost(gpt2) * 100) / 100, 5.45); // 50257·768 / (12·768² + 13·768)
  t.true(headCost(tiny) > 30);
});

test('balanced contiguous split minimises the largest part', (t) => {
  t.deepEqual(balancedSplit([1, 1, 1, 1], 2), [2, 4]);
  t.deepEqual(balancedSplit([1, 1, 1, 6], 2), [3, 4]);
  t.deepEqual(balancedSplit([5, 1, 1, 1, 1, 1], 2), [1, 6]);
});

test('GPT-2 small: workers map to the layout with the smallest load per worker', (t) => {
  t.is(describePlan(planStages(gpt2, { workers: 1, cores: 2 })), 'stage 0: emb+L0-11+head ×1');
  t.is(describePlan(planStages(gpt2, { workers: 2, cores: 2 })), 'stage 0: emb+L0-11+head ×1 (tensor-parallel ×2)');
  t.is(describePlan(planStages(gpt2, { workers: 3, cores: 2 })), 'stage 0: emb+L0-11+head ×3');
  t.is(describePlan(planStages(gpt2, { workers: 4, cores: 2 })), 'stage 0: emb+L0-11+head ×4'); // more workers than cores: no barriers
  t.is(describePlan(planStages(gpt2, { workers: 4, cores: 16 })), 'stage 0: emb+L0-11+head ×2 (tensor-parallel ×2)');
  t.is(planStages(gpt2, { workers: 4, cores: 16 }).workers, 4);
  t.is(describePlan(planStages(tiny, { workers: 2, cores: 2 })), 'stage 0: emb+L0-3+head ×2'); // 128 wide: ops too short for barriers
  t.is(describePlan(planStages(gpt2, { workers: 2, cores: 2, seqs: 128 })), 'stage 0: emb+L0-11+head ×2'); // 64-row replica batches: no need
});

test('--tensor-parallel T: R fills the workers; each stage keeps its T ranks', (t) => {
  const p = planStages(gpt2, { workers: 8, stages: 2, tensor: 2 });
  t.is(describePlan(p), 'stage 0: emb+L0-8 ×2 (tensor-parallel ×2), stage 1: L9-11+head ×2 (tensor-parallel ×2)');
  t.is(p.workers, 8);
  t.throws(() => planStages(gpt2, { tensor: 13 }), { instanceOf: UsageError, message: '--tensor-parallel must be an integer in [1, 12], got 13' });
  t.throws(() => planStages(gpt2, { workers: 3, tensor: 2 }), { instanceOf: UsageError, message: '--workers 3 does not equal --stages 1 × --replicas 1 × --tensor-parallel 2' });
  t.throws(() => planStages(tiny, { headWorkers: 2, tensor: 2 }), { instanceOf: UsageError, message: '--head-workers cannot be combined with --replicas or --tensor-parallel' });
});

test('--head-workers gives the head its own stage, split by vocabulary', (t) => {
  const p = planStages(tiny, { stages: 2, headWorkers: 2 });
  t.is(describePlan(p), 'stage 0: emb+L0-1 ×1, stage 1: L2-3 ×1, stage 2: head/2 ×2');
  t.is(p.workers, 4);
  t.is(p.loadPerWorker, headCost(tiny) / 2);
  t.throws(() => planStages(tiny, { workers: 5, headWorkers: 2 }), { message: '--workers 5 does not equal --stages 1 + --head-workers 2' });
});

test('--stages and --replicas force the layout; the head rides in the last stage', (t) => {
  const p = planStages(gpt2, { stages: 3, replicas: 2 });
  t.is(p.workers, 6);
  t.is(describePlan(p), 'stage 0: emb+L0-4 ×2, stage 1: L5-10 ×2, stage 2: L11-11+head ×2');
});

test('bad layouts are refused with the numbers', (t) => {
  t.throws(() => planStages(gpt2, { stages: 13 }), { instanceOf: UsageError, message: '--stages must be an integer in [1, 12], got 13' });
  t.throws(() => planStages(gpt2, { workers: 4, stages: 3 }), { instanceOf: UsageError, message: '--workers 4 does not equal --stages 3 × --replicas 1 × --tensor-parallel 1' });
  t.throws(() => planStages(gpt2, { workers: 0 }), { instanceOf: UsageError, message: '--workers must be an integer in [1, 256], got 0' });
});
