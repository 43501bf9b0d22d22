// The barrier of a tensor-parallel stage: its T ranks work on one batch slot, and meet here
// between ops (model/forward.ts blocks: four times a layer). It lives in the slot's header, since a
// slot is in one stage at a time; nothing else of the slot's header is touched by it.
//
// Ordering: every rank's writes before wait() are visible to every rank after it. A rank arrives
// with Atomics.add (seq-cst); the last to arrive resets the count, then bumps the generation with
// Atomics.add (release); the others see the new generation through Atomics.load or Atomics.wait
// (acquire). The generation is read *before* arriving, so a fast rank that has already left this
// barrier and arrives at the next one cannot be mistaken for a late arrival at this one: the count
// is reset before the generation moves, and nobody arrives at barrier g+1 before seeing g+1.
//
// Failure: a rank that throws sets ABORT (the worker does so before rethrowing; the executor does
// so when a task is rejected, e.g. its thread died) and wakes the waiters, which then throw
// BarrierAbortedError: no rank is left waiting for a partner that will never come. A wait longer
// than `timeoutMs` aborts too. The executor resets COUNT and ABORT before a slot's next attempt,
// after every task of the failed one has settled.
import { BAR_ABORT, BAR_COUNT, BAR_GEN } from './protocol.js';

export class BarrierAbortedError extends Error {
  override name = 'BarrierAbortedError';
}

export const PARTNER_FAILED = 'a partner rank of this tensor-parallel stage failed';

/** Spin this long before sleeping in Atomics.wait: ranks are balanced, so most waits are short. */
const SPIN_MS = 0.2; // (3 ms measured no different on 2 cores: waits are imbalance, not wake-up latency)

export class SlotBarrier {
  /** Milliseconds this thread has waited in wait(), for profiles (the caller resets it). */
  waitedMs = 0;

  constructor(private readonly header: Int32Array, private readonly parties: number, private readonly timeoutMs = 60_000) {}

  wait(): void {
    const h = this.header;
    const gen = Atomics.load(h, BAR_GEN);
    this.checkAbort();
    if (Atomics.add(h, BAR_COUNT, 1) === this.parties - 1) {
      Atomics.store(h, BAR_COUNT, 0);
      Atomics.add(h, BAR_GEN, 1);
      Atomics.notify(h, BAR_GEN);
      return;
    }
    const t0 = performance.now();
    try {
      this.spin(gen, t0);
    } finally {
      this.waitedMs += performance.now() - t0;
    }
    this.checkAbort(); // an abort also moves the generation, to wake the waiters
  }

  private spin(gen: number, t0: number): void {
    const h = this.header;
    for (let i = 0; Atomics.load(h, BAR_GEN) === gen; i++) {
      if ((i & 255) !== 0) continue;
      const waited = performance.now() - t0;
      if (waited > this.timeoutMs) {
        abortBarrier(h);
        throw new BarrierAbortedError(`tensor-parallel barrier: waited ${Math.round(waited)} ms for ${this.parties} ranks (timeout ${this.timeoutMs} ms)`);
      }
      if (waited > SPIN_MS) Atomics.wait(h, BAR_GEN, gen, 20); // sleep until the generation moves (or 20 ms)
    }
  }

  private checkAbort(): void {
    if (Atomics.load(this.header, BAR_ABORT) !== 0) throw new BarrierAbortedError(PARTNER_FAILED);
  }
}

/** Marks the slot's barrier failed and wakes every rank waiting in it. */
export function abortBarrier(header: Int32Array): void {
  Atomics.store(header, BAR_ABORT, 1);
  Atomics.add(header, BAR_GEN, 1);
  Atomics.notify(header, BAR_GEN);
}

/** Before a slot's next attempt (all tasks of the previous one settled). */
export function resetBarrier(header: Int32Array): void {
  Atomics.store(header, BAR_COUNT, 0);
  Atomics.store(header, BAR_ABORT, 0);
}
