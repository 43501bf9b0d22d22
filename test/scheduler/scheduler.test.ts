// The pure scheduler without workers or tensors (vLLM tests/v1/core style): fabricated step
// outputs, exact token counts for budget splits, admission order, preemption victims.
import test from 'ava';
import { BlockPool, BlockTables } from '../../src/kv/block-pool.js';
import { Scheduler, type SchedSeq } from '../../src/scheduler/scheduler.js';

interface FakeSeq extends SchedSeq { id: string }

function create(o: { tokens?: number; logits?: number; blocks?: number; blockSize?: number; maxSeqs?: number; maxBlocksPerSeq?: number } = {}) {
  const tables = new BlockTables(new BlockPool(o.blocks ?? 1000), o.blockSize ?? 16, o.maxSeqs ?? 16, o.maxBlocksPerSeq ?? 100);
  return { tables, sched: new Scheduler<FakeSeq>(tables, { maxBatchedTokens: o.tokens ?? 8192, maxLogitRows: o.logits ?? 64 }) };
}

const seq = (id: string, prompt: number, maxTokens = 16): FakeSeq => ({ id, numComputed: 0, numTokens: prompt, slot: -1, maxTotalTokens: prompt + maxTokens });

/** Runs one step to completion: computed tokens advance; sequences that reached their end sample one token. */
function step(s: Scheduler<FakeSeq>, inFlight = new Set<FakeSeq>()) {
  const out = s.schedule(inFlight);
  for (const r of out.rows) {
    r.seq.numComputed += r.numTokens;
    if (r.seq.numComputed === r.seq.numTokens) r.seq.numTokens++;
  }
  return { rows: out.rows.map((r) => [r.seq.id, r.numTokens]), preempted: out.preempted.map((p) => p.id), rejected: out.rejected.map((r) => r.seq.id) };
}

test('a token budget is split over prompts in arrival order (chunked prefill)', (t) => {
  const { sched } = create({ tokens: 1024 });
  ['a', 'b', 'c'].forEach((id) => sched.add(seq(id, 800)));
  t.deepEqual(step(sched).rows, [['a', 800], ['b', 224]]);
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 576], ['c', 447]]);
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 1], ['c', 353]]);
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 1], ['c', 1]]);
});

test('decode and prefill share a step: no phases', (t) => {
  const { sched } = create({ tokens: 10 });
  sched.add(seq('a', 4));
  t.deepEqual(step(sched).rows, [['a', 4]]);
  sched.add(seq('b', 30));
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 9]]);
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 9]]);
});

test('admission is first come first served and stops at max_num_seqs', (t) => {
  const { sched } = create({ maxSeqs: 2 });
  ['a', 'b', 'c'].forEach((id) => sched.add(seq(id, 5)));
  t.deepEqual(step(sched).rows, [['a', 5], ['b', 5]]);
  const b = sched.running[1];
  sched.finish(sched.running[0]);
  t.deepEqual(step(sched).rows, [['b', 1], ['c', 5]]);
  t.is(sched.running[0], b);
});

test('sequences in flight are skipped; the next micro-batch takes the others', (t) => {
  const { sched } = create({ logits: 2 });
  ['a', 'b', 'c', 'd'].forEach((id) => sched.add(seq(id, 3)));
  const first = sched.schedule(new Set());
  t.deepEqual(first.rows.map((r) => [(r.seq as FakeSeq).id, r.numTokens]), [['a', 3], ['b', 3]]); // 2 logits rows per micro-batch
  const second = sched.schedule(new Set(first.rows.map((r) => r.seq)));
  t.deepEqual(second.rows.map((r) => [(r.seq as FakeSeq).id, r.numTokens]), [['c', 3], ['d', 3]]);
});

test('out of blocks, the newest idle running sequence is preempted, then the next newest', (t) => {
  // 6 blocks of 4 tokens = 24 tokens; three sequences of 7 tokens hold 2 blocks each
  const { sched, tables } = create({ blocks: 6, blockSize: 4 });
  ['a', 'b', 'c'].forEach((id) => sched.add(seq(id, 7, 10)));
  t.deepEqual(step(sched).rows, [['a', 7], ['b', 7], ['c', 7]]);
  t.is(tables.pool.numFree, 0);
  // each now has 8 tokens: position 7 still fits in block 2; the next step needs a 3rd block each
  t.deepEqual(step(sched).rows, [['a', 1], ['b', 1], ['c', 1]]);
  const s3 = step(sched); // a needs a 3rd block: c (newest idle) is preempted; b then fits in what c freed
  t.deepEqual(s3.preempted, ['c']);
  t.deepEqual(s3.rows, [['a', 1], ['b', 1]]);
  t.is(sched.preemptions, 1);
  t.deepEqual(sched.waiting.map((s) => s.id), ['c']);
  t.is(sched.waiting[0].numComputed, 0); // recompute from scratch
});

test('a preempted sequence comes back first and recomputes all its tokens', (t) => {
  const { sched } = create({ blocks: 4, blockSize: 4 });
  ['a', 'b'].forEach((id) => sched.add(seq(id, 7, 4)));
  step(sched); step(sched);
  const s = step(sched);
  t.deepEqual(s.preempted, ['b']);
  sched.finish(sched.running[0]);
  const back = step(sched);
  t.deepEqual(back.rows, [['b', 9]]); // 7 prompt + 2 sampled tokens recomputed at once
});

test('a request that cannot fit even alone is rejected with the numbers; the others go on', (t) => {
  const { sched } = create({ blocks: 4, blockSize: 4 });
  sched.add(seq('huge', 10, 20));
  sched.add(seq('ok', 3, 2));
  const s = sched.schedule(new Set());
  t.deepEqual(s.rejected.map((r) => r.seq.id), ['huge']);
  t.regex(s.rejected[0].reason, /needs up to 30 tokens of KV cache \(prompt \+ max_tokens\) but the cache holds only 16 tokens \(4 blocks of 4\)/);
  t.deepEqual(s.rows.map((r) => [(r.seq as FakeSeq).id, r.numTokens]), [['ok', 3]]);
});

test('finishing frees the blocks and the block-table row', (t) => {
  const { sched, tables } = create({ blocks: 10, blockSize: 4 });
  sched.add(seq('a', 9));
  step(sched);
  t.is(tables.pool.numFree, 7);
  const a = sched.running[0], slot = a.slot;
  sched.finish(a);
  t.is(tables.pool.numFree, 10);
  t.is(a.slot, -1);
  t.deepEqual(Array.from(tables.table.subarray(slot * 100, slot * 100 + 3)), [-1, -1, -1]);
});

test('a sequence marked isolate runs in a micro-batch of its own', (t) => {
  const { sched } = create();
  ['a', 'b', 'c'].forEach((id) => sched.add(seq(id, 4)));
  step(sched);
  sched.running[1].isolate = true;
  t.deepEqual(step(sched).rows, [['a', 1], ['c', 1]]); // b is skipped once the batch has a row...
  const inFlight = new Set([sched.running[0], sched.running[2]]);
  t.deepEqual(step(sched, inFlight).rows, [['b', 1]]); // ...and runs alone when it comes first
});
