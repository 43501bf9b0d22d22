// Progress lines (TTY bar and plain), ETA format, latency statistics and the summary text.
import test from 'ava';
import { Latency, TokenTimer } from '../../src/job/latency.js';
import { formatEta, Progress, progressLine } from '../../src/job/progress.js';

test('progress: a bar on a TTY, a plain line otherwise, with tokens/s and ETA', (t) => {
  const p = { done: 25, total: 100, generated: 500, elapsedS: 10 };
  t.is(progressLine(p, false), 'progress: 25/100 requests  50.0 tok/s  ETA 00:30');
  t.regex(progressLine(p, true), /^\[#{8}\.{22}\]  25% 25\/100 requests  50\.0 tok\/s  ETA 00:30$/);
  t.is(formatEta(3725), '1:02:05');
  t.is(formatEta(NaN), '--:--');
});

test('--quiet writes nothing; a TTY bar ends with a newline', (t) => {
  const out: string[] = [];
  const state = () => ({ done: 1, total: 1, generated: 1, elapsedS: 1 });
  const quiet = new Progress({ quiet: true, tty: false, intervalS: 1, write: (s) => out.push(s) }, state);
  quiet.start();
  quiet.stop();
  t.deepEqual(out, []);
  const tty = new Progress({ quiet: false, tty: true, intervalS: 1, write: (s) => out.push(s) }, state);
  tty.start();
  tty.stop();
  t.true(out[0].startsWith('\r['));
  t.is(out[out.length - 1], '\n');
});

test('latency: exact mean, percentiles; TTFT/TPOT/ITL from token times', (t) => {
  const l = new Latency(1000);
  for (let i = 1; i <= 100; i++) l.add(i);
  t.deepEqual(l.summary(), { count: 100, mean: 50.5, p50: 51, p99: 100 });
  const tt = new TokenTimer();
  tt.submit('a', 0);
  tt.token('a', 0, 0, 10);
  tt.token('a', 0, 1, 14);
  tt.token('a', 0, 2, 20);
  tt.finish('a', 1);
  t.is(tt.ttft.summary().mean, 10);
  t.is(tt.tpot.summary().mean, 5);
  t.deepEqual([tt.itl.summary().count, tt.itl.summary().mean], [2, 5]);
});
