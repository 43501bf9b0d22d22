// A thread of test/pipeline/barrier.test.ts: rank `rank` of `parties` runs `rounds` barrier
// phases; in phase i it writes i into its own cell, waits, then checks every partner's cell.
// With `abortAt`, it aborts the barrier instead of arriving at that phase (a failing rank).
import { parentPort, workerData } from 'node:worker_threads';
import { abortBarrier, SlotBarrier } from '../../src/pipeline/barrier.js';

const { header, cells, rank, parties, rounds, abortAt, timeoutMs } = workerData as {
  header: SharedArrayBuffer; cells: SharedArrayBuffer; rank: number; parties: number; rounds: number; abortAt: number; timeoutMs: number;
};
const h = new Int32Array(header), v = new Int32Array(cells);
const barrier = new SlotBarrier(h, parties, timeoutMs);
let stale = 0;
try {
  for (let i = 0; i < rounds; i++) {
    if (i === abortAt) { abortBarrier(h); throw new Error(`rank ${rank} failed on purpose`); }
    v[rank] = i;               // a plain write, published by the barrier
    barrier.wait();
    for (let r = 0; r < parties; r++) if (v[r] !== i) stale++;
    barrier.wait();            // nobody writes phase i + 1 before everyone has read phase i
  }
  parentPort!.postMessage({ ok: true, stale });
} catch (e) {
  parentPort!.postMessage({ ok: false, name: (e as Error).name, message: (e as Error).message, stale });
}
