// Prefix caching and n > 1 forks in the pure scheduler (fake sequences with real token ids,
// fabricated step outputs): exact hits, the numTokens − 1 cap, in-batch dedupe, reference
// counts, LRU eviction, preemption and abort of sequences holding shared blocks.
import test from 'ava';
import { BlockPool, BlockTables } from '../../src/kv/block-pool.js';
import { extendHashes, rootHash } from '../../src/kv/prefix-hash.js';
import { Scheduler, type SchedSeq } from '../../src/scheduler/scheduler.js';

interface FakeSeq extends SchedSeq { id: string; tokens: number[]; readonly numTokens: number; promptLen: number; forkOf: FakeSeq | null }

const B = 4;
function create(o: { blocks?: number; tokens?: number; maxSeqs?: number; caching?: boolean } = {}) {
  const tables = new BlockTables(new BlockPool(o.blocks ?? 64), B, o.maxSeqs ?? 8, 16);
  const sched = new Scheduler<FakeSeq>(tables, { maxBatchedTokens: o.tokens ?? 256, maxLogitRows: 16 },
    { prefixCaching: o.caching === false ? null : { root: rootHash('test-model') } });
  return { tables, pool: tables.pool, sched };
}

function seq(id: string, tokens: number[], maxTokens = 8, forkOf: FakeSeq | null = null): FakeSeq {
  return { id, tokens: [...tokens], get numTokens() { return this.tokens.length; }, promptLen: tokens.length, numComputed: 0, slot: -1, maxTotalTokens: tokens.length + maxTokens, forkOf };
}

const keys = (tokens: number[]) => { const h: string[] = []; extendHashes(rootHash('test-model'), h, tokens, B); return h; };
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const rowsOf = (out: { rows: Array<{ seq: FakeSeq; numTokens: number }> }) => out.rows.map((r) => [r.seq.id, r.numTokens]);

/** One step to completion; sampling sequences append token 900. */
function step(s: Scheduler<FakeSeq>) {
  const out = s.schedule();
  for (const { seq } of s.updateFromStep(out)) seq.tokens.push(900);
  return out;
}
const blocksOf = (t: BlockTables, s: FakeSeq) => Array.from({ length: t.numBlocks(s.slot) }, (_, i) => t.blockAt(s.slot, i));
const byId = (s: Scheduler<FakeSeq>, id: string) => s.running.find((x) => x.id === id)!;

test('a hit follows the hash chain: whole blocks of an equal prefix, nothing after the first difference', (t) => {
  const { sched, tables } = create();
  sched.add(seq('a', range(0, 13)));
  step(sched);
  const aBlocks = blocksOf(tables, byId(sched, 'a'));
  sched.finish(byId(sched, 'a'));
  sched.add(seq('b', [...range(0, 8), 77, 78]));         // blocks 0-1 equal
  sched.add(seq('c', [...range(0, 4), 50, 5, 6, 7, 8, 9])); // block 1 differs
  sched.add(seq('d', [99, 1, 2, 3, ...range(4, 6)]));     // block 0 differs: block 1's tokens alone never hit
  t.deepEqual(rowsOf(step(sched)), [['b', 2], ['c', 6], ['d', 10]]);
  const [b, c, d] = ['b', 'c', 'd'].map((id) => byId(sched, id));
  t.deepEqual([b.numCachedTokens, c.numCachedTokens, d.numCachedTokens], [8, 4, 0]);
  t.deepEqual(blocksOf(tables, b).slice(0, 2), aBlocks.slice(0, 2));
  t.is(blocksOf(tables, c)[0], aBlocks[0]);
  t.deepEqual(sched.promptTokens, { computed: 13 + 2 + 6 + 10, cached: 8 + 4 });
});

test('a hit is capped at numTokens − 1: the last prompt token is always computed for its logits', (t) => {
  const { sched } = create();
  sched.add(seq('a', range(0, 8)));
  step(sched);
  sched.finish(byId(sched, 'a'));
  sched.add(seq('again', range(0, 8))); // 2 full blocks cached, but only 1 may be used
  t.deepEqual(rowsOf(step(sched)), [['again', 4]]);
  t.is(byId(sched, 'again').numCachedTokens, 4);
});

test('only full blocks of computed tokens are committed; off, nothing is shared', (t) => {
  for (const caching of [true, false]) {
    const { sched, pool } = create({ caching });
    sched.add(seq('a', range(0, 6)));
    step(sched);
    sched.finish(byId(sched, 'a'));
    t.is(pool.numCachedFree, caching ? 1 : 0); // the 2-token tail block is never findable
    sched.add(seq('b', range(0, 10)));
    t.deepEqual(rowsOf(step(sched)), [['b', caching ? 6 : 10]]);
  }
});

test('in the same batch, a request waits for the block another is computing, then hits it; others are not held up', (t) => {
  const { sched, tables } = create();
  sched.add(seq('a', [...range(0, 8), 1, 2]));
  sched.add(seq('b', [...range(0, 8), 3, 4]));
  sched.add(seq('x', range(500, 5)));
  t.deepEqual(rowsOf(step(sched)), [['a', 10], ['x', 5]]); // b skipped, x admitted past it
  t.deepEqual(sched.waiting.map((s) => s.id), ['b']);
  t.deepEqual(rowsOf(step(sched)), [['a', 1], ['x', 1], ['b', 2]]);
  const a = byId(sched, 'a'), b = byId(sched, 'b');
  t.is(b.numCachedTokens, 8);
  t.deepEqual(blocksOf(tables, b).slice(0, 2), blocksOf(tables, a).slice(0, 2));
  t.deepEqual(sched.promptTokens, { computed: 10 + 5 + 2, cached: 8 });
});

test('with chunked prefill, the waiting request follows the first block by block and computes none of the shared prefix', (t) => {
  const { sched } = create({ tokens: 8 });
  const prefix = range(0, 16);
  sched.add(seq('a', [...prefix, 1]));
  sched.add(seq('b', [...prefix, 2]));
  t.deepEqual(rowsOf(step(sched)), [['a', 8]]);
  t.deepEqual(rowsOf(step(sched)), [['a', 8]]);
  t.deepEqual(rowsOf(step(sched)), [['a', 1], ['b', 1]]);
  t.is(byId(sched, 'b').numCachedTokens, 16);
});

test('a shared block is freed only by its last user', (t) => {
  const { sched, pool, tables } = create({ blocks: 16 });
  sched.add(seq('a', [...range(0, 8), 1]));
  step(sched);
  sched.add(seq('b', [...range(0, 8), 2]));
  step(sched);
  const a = byId(sched, 'a'), b = byId(sched, 'b'), shared = blocksOf(tables, a).slice(0, 2);
  t.deepEqual(shared.map((x) => pool.refCount(x)), [2, 2]);
  sched.finish(a);
  t.deepEqual(shared.map((x) => pool.refCount(x)), [1, 1]);
  t.is(pool.numFree, 16 - 3); // a's own tail block freed; b holds 2 shared + 1
  sched.finish(b);
  t.deepEqual(shared.map((x) => pool.refCount(x)), [0, 0]);
  t.is(pool.numFree, 16);
  t.is(pool.numCachedFree, 2); // free but still findable
});

test('the pool reuses plain free blocks first, then cached ones least recently freed first (tails before heads)', (t) => {
  const pool = new BlockPool(4);
  const ids = [pool.allocate(), pool.allocate(), pool.allocate()];
  ids.forEach((b, i) => pool.register(b, `h${i}`));
  pool.release([ids[1]]);
  pool.release([ids[2], ids[0]]);
  t.is(pool.allocate(), 3); // never-hashed block first
  t.is(pool.allocate(), ids[1]);
  t.is(pool.lookup('h1'), undefined); // evicted with its reuse
  t.is(pool.allocate(), ids[2]);
  t.is(pool.lookup('h0'), ids[0]);
  pool.share(ids[0]); // a hit takes a free cached block out of the queue
  t.is(pool.numFree, 0);
  t.throws(() => pool.allocate(), { name: 'KvCacheFullError' });
});

test('the least recently freed prefix is evicted first, its tail before its head', (t) => {
  const { sched, pool } = create({ blocks: 11 });
  for (const [id, from] of [['old', 0], ['new', 100]] as const) {
    sched.add(seq(id, range(from, 9), 2));
    step(sched);
    sched.finish(byId(sched, id)); // 2 full blocks stay cached, the partial third is plain
  }
  t.is(pool.numCachedFree, 4);
  sched.add(seq('big', range(300, 31), 2));
  step(sched); // 8 blocks: the 7 plain ones, then one cached: old's tail
  const old = keys(range(0, 9)), young = keys(range(100, 9));
  t.is(pool.lookup(old[1]), undefined);
  t.not(pool.lookup(old[0]), undefined);
  t.true(young.every((k) => pool.lookup(k) !== undefined));
  sched.add(seq('new2', range(100, 9)));
  t.deepEqual(rowsOf(step(sched)), [['big', 1], ['new2', 1]]); // hit 8; its one new block evicts old's head
  t.is(pool.lookup(old[0]), undefined);
});

test('a preempted sequence releases only its references and resumes from what is still cached', (t) => {
  // 6 blocks of 4: a and b share 2 blocks of prefix; decoding, they run out and b (newest) is preempted
  const { sched, pool, tables } = create({ blocks: 6 });
  sched.add(seq('a', [...range(0, 8), 1], 12));
  step(sched);
  sched.add(seq('b', [...range(0, 8), 2], 12));
  step(sched);
  const shared = blocksOf(tables, byId(sched, 'a')).slice(0, 2);
  let s = step(sched);
  while (s.preempted.length === 0) s = step(sched);
  t.deepEqual(s.preempted.map((x) => x.id), ['b']);
  t.deepEqual(shared.map((x) => pool.refCount(x)), [1, 1]); // a still holds them
  const b = sched.waiting[0];
  t.is(b.numComputed, 0);
  sched.finish(byId(sched, 'a'));
  const back = step(sched);
  t.deepEqual(blocksOf(tables, b).slice(0, 2), shared);
  t.deepEqual(rowsOf(back), [['b', b.numTokens - 1 - 12]]); // its own full block [2, 900, 900, 900] was cached too
  t.is(b.numCachedTokens, 8); // first admission's count is kept
});

test('an aborted sequence holding shared blocks gives back only its references', (t) => {
  const { sched, pool, tables } = create({ blocks: 16 });
  sched.add(seq('a', [...range(0, 8), 1]));
  step(sched);
  sched.add(seq('b', [...range(0, 8), 2]));
  const out = sched.schedule();
  const a = byId(sched, 'a'), b = byId(sched, 'b'), shared = blocksOf(tables, a).slice(0, 2);
  sched.abort(b); // in flight: released when its step returns
  t.deepEqual(shared.map((x) => pool.refCount(x)), [2, 2]);
  sched.updateFromStep(out);
  t.deepEqual(shared.map((x) => pool.refCount(x)), [1, 1]);
  sched.abort(a);
  t.is(pool.numFree, 16);
  t.false(sched.hasWork);
});

test('a waiting request is released from its wait when the sequence computing its block is aborted', (t) => {
  const { sched } = create();
  sched.add(seq('a', [...range(0, 8), 1]));
  sched.add(seq('b', [...range(0, 8), 2]));
  const out = sched.schedule();
  t.deepEqual(rowsOf(out), [['a', 9]]);
  sched.abort(out.rows[0].seq);
  sched.updateFromStep(out); // a is released; its blocks were never committed
  t.deepEqual(rowsOf(sched.schedule()), [['b', 9]]); // nothing cached: computes all
});

for (const caching of [true, false]) {
  test(`n > 1: forks share the first choice's full blocks and copy its partial block (prefix caching ${caching ? 'on' : 'off'})`, (t) => {
    const { sched, tables, pool } = create({ caching });
    const p = seq('p', range(0, 10));
    const forks = [seq('f1', range(0, 10), 8, p), seq('f2', range(0, 10), 8, p)];
    [p, ...forks].forEach((s) => sched.add(s));
    t.deepEqual(rowsOf(step(sched)), [['p', 10]]); // the forks wait for p's rows
    const out = step(sched);
    t.deepEqual(rowsOf(out), [['p', 1], ['f1', 1], ['f2', 1]]); // each computes only the last prompt token
    const pb = blocksOf(tables, p);
    for (const [i, f] of forks.entries()) {
      t.deepEqual(blocksOf(tables, f).slice(0, 2), pb.slice(0, 2));
      t.deepEqual(out.copies[i], { src: pb[2], dst: blocksOf(tables, f)[2], rows: 1 }); // position 8 of block 2
      t.is(f.numCachedTokens, 9);
    }
    t.deepEqual(pb.slice(0, 2).map((b) => pool.refCount(b)), [3, 3]);
    t.deepEqual(sched.promptTokens, { computed: 10 + 1 + 1, cached: 18 });
    [p, ...forks].forEach((s) => sched.finish(s));
    t.is(pool.numFree, 64);
  });
}

test('a fork whose first choice already finished computes (or hits) its prompt like any other', (t) => {
  const { sched } = create({ caching: false });
  const p = seq('p', range(0, 6), 0);
  sched.add(p);
  step(sched);
  sched.finish(p);
  sched.add(seq('f', range(0, 6), 1, p));
  t.deepEqual(rowsOf(step(sched)), [['f', 6]]);
});
