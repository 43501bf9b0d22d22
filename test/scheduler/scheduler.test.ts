// The pure scheduler without workers or tensors (vLLM tests/v1/core style): fabricated step
// outputs, exact token counts for budget splits, admission order, preemption victims.
import test from 'ava';
import { BlockPool, BlockTables } from '../../src/kv/block-pool.js';
import { Scheduler, type SchedSeq } from '../../src/scheduler/scheduler.js';

interface FakeSeq extends SchedSeq { id: string; numTokens: number }

function create(o: { tokens?: number; logits?: number; blocks?: number; blockSize?: number; maxSeqs?: number; maxBlocksPerSeq?: number } = {}) {
  const tables = new BlockTables(new BlockPool(o.blocks ?? 1000), o.blockSize ?? 16, o.maxSeqs ?? 16, o.maxBlocksPerSeq ?? 100);
  return { tables, sched: new Scheduler<FakeSeq>(tables, { maxBatchedTokens: o.tokens ?? 8192, maxLogitRows: o.logits ?? 64 }) };
}

const seq = (id: string, prompt: number, maxTokens = 16): FakeSeq => ({ id, numComputed: 0, numTokens: prompt, slot: -1, maxTotalTokens: prompt + maxTokens });

/** Runs one step to completion: computed tokens advance; sequences that reached their end sample one token. */
function step(s: Scheduler<FakeSeq>) {
  const out = s.schedule();
  for (const { seq } of s.updateFromStep(out)) seq.numTokens++;
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
  const first = sched.schedule();
  t.deepEqual(first.rows.map((r) => [(r.seq as FakeSeq).id, r.numTokens]), [['a', 3], ['b', 3]]); // 2 logits rows per micro-batch
  const second = sched.schedule(); // a and b are in flight
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
  const s = sched.schedule();
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

const rowsOf = (out: { rows: Array<{ seq: FakeSeq; numTokens: number }> }) => out.rows.map((r) => [r.seq.id, r.numTokens]);

test('after a failed step of several rows, each of its sequences runs in a micro-batch of its own', (t) => {
  const { sched } = create();
  ['a', 'b', 'c'].forEach((id) => sched.add(seq(id, 4)));
  step(sched);
  sched.failStep(sched.schedule()); // a, b and c failed together: one of them may be the cause
  const a = sched.schedule();
  t.deepEqual(rowsOf(a), [['a', 1]]);
  t.deepEqual(rowsOf(sched.schedule()), [['b', 1]]); // a is in flight: b comes first, and alone
  t.deepEqual(rowsOf(sched.schedule()), [['c', 1]]);
  sched.updateFromStep(a);
  t.false(sched.running[0].isolate === true); // a ran fine alone: back to batching
});

test('a step of one row that fails does not isolate it again; the caller fails the request', (t) => {
  const { sched } = create();
  sched.add(seq('a', 4));
  const out = sched.schedule();
  sched.failStep(out);
  t.false(sched.running[0].isolate === true);
  t.is(sched.numInFlight, 0);
});

test('an aborted sequence in flight keeps its blocks until its step returns, and its logits row is skipped', (t) => {
  const { sched, tables } = create({ blocks: 10, blockSize: 4 });
  ['a', 'b'].forEach((id) => sched.add(seq(id, 3)));
  const out = sched.schedule();
  const [a, b] = out.rows.map((r) => r.seq);
  sched.abort(a);
  t.is(tables.pool.numFree, 8); // workers may still write a's KV pages
  const sample = sched.updateFromStep(out);
  t.deepEqual(sample.map((r) => [r.seq.id, r.row]), [['b', 1]]); // row 0 holds a's logits
  t.is(tables.pool.numFree, 9);
  t.deepEqual(sched.running, [b]);
  t.is(a.slot, -1);
});

test('an aborted waiting sequence leaves the queue at once', (t) => {
  const { sched } = create({ maxSeqs: 1 });
  ['a', 'b'].forEach((id) => sched.add(seq(id, 3)));
  step(sched);
  const b = sched.waiting[0];
  sched.abort(b);
  t.deepEqual(sched.waiting, []);
  t.is(sched.hasWork, true); // a still runs
});
