// The executor's gate (src/pipeline/executor.ts): a tensor-parallel stage of R replicas admits at
// most R slots at once (its T ranks must run together), the rest wait in FIFO order, and a failed
// run hands its place on like a successful one.
import test from 'ava';
import { Gate } from '../../src/pipeline/executor.js';

const tick = () => new Promise((r) => setImmediate(r));

test('at most `limit` runs at once; waiting runs start in arrival order as places free up', async (t) => {
  const gate = new Gate(2);
  let inside = 0, most = 0;
  const order: number[] = [];
  const release: Array<() => void> = [];
  const runs = Array.from({ length: 5 }, (_, i) => gate.run(async () => {
    inside++; most = Math.max(most, inside); order.push(i);
    await new Promise<void>((r) => release.push(r));
    inside--;
    return i;
  }));
  await tick();
  t.deepEqual(order, [0, 1]);
  release.shift()!(); await tick(); await tick();
  t.deepEqual(order, [0, 1, 2]);
  while (release.length || order.length < 5) { release.shift()?.(); await tick(); await tick(); }
  t.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
  t.is(most, 2);
});

test('a run that throws frees its place and the error reaches its caller', async (t) => {
  const gate = new Gate(1);
  const failing = gate.run(async () => { await tick(); throw new Error('rank died'); });
  const next = gate.run(async () => 'ran');
  await t.throwsAsync(failing, { message: 'rank died' });
  t.is(await next, 'ran');
  t.is(await gate.run(async () => 'again'), 'again'); // not stuck at the limit
});
