// Nothing lost: --resume drops a torn last line and runs exactly the requests not yet written;
// SIGINT stops admitting, flushes and exits 130; SIGKILL at any moment then --resume ends with the
// same records (by custom_id) as an uninterrupted run with the same seed.
import test, { type ExecutionContext } from 'ava';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareOutput } from '../../src/job/resume.js';
import { byId, cli, cliAsync, exited, F32, idPrompts, records, tmp, waitForLines, write } from './_helpers.js';

const N = 300;
const dir = tmp('resume');
const input = write(dir, 'in.jsonl', idPrompts(N, { max_tokens: 12, ignore_eos: true }));
const common = ['--model', F32, '-i', input, '--seed', '3', '--temperature', '0.9', '--quiet'];
// slow on purpose: 2 requests in flight, so there is time to interrupt it mid-run. Every test here is
// serial: a spawnSync in a concurrent test would block this process's polling while the child runs.
const slow = ['--max-in-flight', '2', '--max-num-seqs', '2'];
let reference = new Map<string, string>();

test.before(() => {
  const out = join(dir, 'reference.jsonl');
  const r = cli('run', ...common, '-o', out);
  if (r.status !== 0) throw new Error(r.stderr);
  reference = byId(out);
});

/** Starts a slow run into `name` and returns once `lines` records are written. */
async function startSlowRun(name: string, lines: number) {
  const out = join(dir, name);
  const child = cliAsync('run', ...common, ...slow, '-o', out);
  const done = exited(child);
  await waitForLines(out, lines, child);
  return { out, child, done };
}

/** `--resume` into out: exit status 0 and the reference records. */
function resumeToReference(t: ExecutionContext, out: string): void {
  const r = cli('run', ...common, '-o', out, '--resume');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(byId(out), reference);
}

test.serial('the reference run has one record per input line', (t) => {
  t.is(reference.size, N);
});

test.serial('prepareOutput drops a torn last line and returns the finished custom_ids', async (t) => {
  const f = write(tmp('torn'), 'o.jsonl', '{"custom_id":"a"}\n{"custom_id":"b"}\n{"custom_id":"c","respo');
  const s = await prepareOutput(f, true);
  t.deepEqual([...s.done], ['a', 'b']);
  t.is(s.tornBytes, '{"custom_id":"c","respo'.length);
  t.is(readFileSync(f, 'utf8'), '{"custom_id":"a"}\n{"custom_id":"b"}\n');
  await prepareOutput(f, false);
  t.is(readFileSync(f, 'utf8'), ''); // without --resume a job starts over
});

test.serial('--resume after a torn last line finishes exactly the rest', (t) => {
  const out = join(dir, 'torn.jsonl');
  const full = readFileSync(join(dir, 'reference.jsonl'), 'utf8').split('\n');
  writeFileSync(out, full.slice(0, 30).join('\n') + '\n' + full[30].slice(0, 50));
  const r = cli('run', ...common, '-o', out, '--resume');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /resume: 30 done/);
  t.is(records(out).length, N); // no duplicates, nothing missing
  t.deepEqual(byId(out), reference);
});

test.serial('SIGINT: stops admitting, finishes in-flight requests, flushes, exits 130; --resume completes it', async (t) => {
  const { out, child, done } = await startSlowRun('sigint.jsonl', 3);
  child.kill('SIGINT');
  const { code, stderr } = await done;
  t.is(code, 130, stderr);
  t.regex(stderr, /SIGINT: no new requests/);
  t.regex(stderr, /interrupted in [\d.]+ s: \d+ ok/);
  const text = readFileSync(out, 'utf8');
  t.true(text.endsWith('\n'));
  const partial = records(out);
  t.true(partial.length >= 3 && partial.length < N, `${partial.length} records`);
  for (const r of partial) t.is(reference.get(r.custom_id) !== undefined, true);
  resumeToReference(t, out);
});

test.serial('a second SIGINT exits at once, leaving only whole lines', async (t) => {
  const { out, child, done } = await startSlowRun('sigint2.jsonl', 1);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  child.kill('SIGINT');
  while (!err.includes('no new requests') && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT'); // the second one: exit now
  const { code, stderr } = await done;
  t.is(code, 130, stderr);
  const text = readFileSync(out, 'utf8');
  t.true(text.endsWith('\n'));
  t.notThrows(() => records(out));
});

test.serial('SIGKILL mid-run, then --resume: the same records as an uninterrupted run', async (t) => {
  const { out, child, done } = await startSlowRun('sigkill.jsonl', 5);
  child.kill('SIGKILL');
  const { code, signal, stderr } = await done;
  t.is(signal, 'SIGKILL', `exit code ${code}; stderr: ${stderr}`);
  const killedAt = readFileSync(out, 'utf8').split('\n').length - 1;
  t.true(killedAt < N);
  copyFileSync(out, join(dir, 'sigkill-before-resume.jsonl'));
  const r = cli('run', ...common, '-o', out, '--resume');
  t.is(r.status, 0, r.stderr);
  t.is(records(out).length, N);
  t.deepEqual(byId(out), reference);
});
