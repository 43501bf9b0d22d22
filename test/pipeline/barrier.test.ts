// The tensor-parallel barrier (src/pipeline/barrier.ts) on real threads: writes before it are
// seen after it, an aborting rank releases its partners at once, and a missing rank times out.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { BAR_ABORT, BAR_COUNT } from '../../src/pipeline/protocol.js';

const WORKER = new URL('../helpers/barrier-worker.js', import.meta.url);
interface Result { ok: boolean; stale: number; name?: string; message?: string }

function runRanks(parties: number, rounds: number, opts: { abortRank?: number; abortAt?: number; threads?: number; timeoutMs?: number } = {}) {
  const header = new SharedArrayBuffer(8 * 4), cells = new SharedArrayBuffer(parties * 4);
  new Int32Array(cells).fill(-1);
  const threads = opts.threads ?? parties;
  const results = Array.from({ length: threads }, (_, rank) => new Promise<Result>((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: {
      header, cells, rank, parties, rounds, abortAt: rank === opts.abortRank ? opts.abortAt : -1, timeoutMs: opts.timeoutMs ?? 60_000,
    } });
    w.once('message', (m: Result) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  }));
  return { header: new Int32Array(header), results: Promise.all(results) };
}

test('3 ranks × 2000 phases: every rank sees every partner\'s write of the phase', async (t) => {
  const { header, results } = runRanks(3, 2000);
  const rs = await results;
  t.deepEqual(rs, [{ ok: true, stale: 0 }, { ok: true, stale: 0 }, { ok: true, stale: 0 }]);
  t.is(Atomics.load(header, BAR_COUNT), 0); // self-resetting
});

test('a rank that aborts releases the others with BarrierAbortedError, not a timeout', async (t) => {
  const t0 = Date.now();
  const { header, results } = runRanks(3, 100, { abortRank: 2, abortAt: 40, timeoutMs: 60_000 });
  const rs = await results;
  t.deepEqual(rs.map((r) => r.ok), [false, false, false]);
  t.is(rs[2].message, 'rank 2 failed on purpose');
  for (const r of rs.slice(0, 2)) {
    t.is(r.name, 'BarrierAbortedError');
    t.is(r.message, 'a partner rank of this tensor-parallel stage failed');
    t.is(r.stale, 0);
  }
  t.is(Atomics.load(header, BAR_ABORT), 1);
  t.true(Date.now() - t0 < 20_000);
});

test('a rank that never comes: the others time out, naming the wait and the party count', async (t) => {
  const { results } = runRanks(3, 5, { threads: 2, timeoutMs: 300 });
  const rs = await results;
  for (const r of rs) {
    t.false(r.ok);
    t.is(r.name, 'BarrierAbortedError');
    t.regex(r.message!, /^tensor-parallel barrier: waited \d+ ms for 3 ranks \(timeout 300 ms\)$|^a partner rank of this tensor-parallel stage failed$/);
  }
  t.true(rs.some((r) => /timeout 300 ms/.test(r.message!)), 'at least one rank reports the timeout itself');
});
