// Nothing lost: --resume drops a torn last line and runs exactly the requests not yet written;
// SIGINT stops admitting, flushes and exits 130; SIGKILL at any moment then --resume ends with the
// same records (by custom_id) as an uninterrupted run with the same seed.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputLock } from '../../src/job/files.js';
import { configDifferences, prepareOutput } from '../../src/job/resume.js';
import { ckptDir } from '../helpers/paths.js';
import { BIN, byId, cli, cliAsync, exited, F32, idPrompts, records, tmp, waitForLines, write } from './_helpers.js';

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
  const { code, signal, stderr } = await done;
  // 130 from the handler; or, when the in-flight requests had already finished and node was tearing
  // down (it restores default signal actions there), the signal's own default action
  t.true(code === 130 || (code === null && signal === 'SIGINT'), `code ${code}, signal ${signal}: ${stderr}`);
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
  t.true(existsSync(`${out}.lock`)); // left behind by the killed run: stale (its pid is gone), so taken over
  const r = cli('run', ...common, '-o', out, '--resume');
  t.is(r.status, 0, r.stderr);
  t.is(records(out).length, N);
  t.deepEqual(byId(out), reference);
  t.false(existsSync(`${out}.lock`));
});

test.serial('a second run, or a --resume, on an output in use is refused with exit 2; the first writes each record once', async (t) => {
  const { out, child, done } = await startSlowRun('locked.jsonl', 2);
  child.kill('SIGSTOP'); // holds the lock, deterministically still running while the others try
  try {
    const lockFile = `${out}.lock`;
    const held = JSON.parse(readFileSync(lockFile, 'utf8'));
    t.is(held.pid, child.pid);
    for (const extra of [[], ['--resume']]) {
      const r = cli('run', ...common, '-o', out, ...extra);
      t.is(r.status, 2, extra.join(' '));
      t.is(r.stderr, `pipegpt: output ${out} is in use by another pipegpt run (pid ${child.pid} on ${held.host}, since ${held.started}; ` +
        `lock file ${lockFile}). Wait for it to end, or delete the lock file if that run no longer exists.\n`);
    }
  } finally {
    child.kill('SIGCONT');
  }
  const { code, stderr } = await done;
  t.is(code, 0, stderr);
  t.is(records(out).length, N); // nothing written twice
  t.deepEqual(byId(out), reference);
  t.false(existsSync(`${out}.lock`));
});

test.serial('a lock held by another live process (here: the test) refuses the CLI before it creates anything', (t) => {
  const out = join(dir, 'held.jsonl');
  const lock = OutputLock.acquire(out);
  const r = cli('run', ...common, '-o', out);
  lock.release();
  t.is(r.status, 2);
  t.regex(r.stderr, new RegExp(`is in use by another pipegpt run \\(pid ${process.pid} on `));
  t.false(existsSync(out)); // refused before creating anything
});

test.serial('--resume with another model, seed or sampling is refused naming the keys; --resume-force resumes', (t) => {
  const out = join(dir, 'mismatch.jsonl');
  const full = readFileSync(join(dir, 'reference.jsonl'), 'utf8').split('\n');
  const partial = full.slice(0, 30).join('\n') + '\n';
  writeFileSync(out, partial);
  copyFileSync(join(dir, 'reference.jsonl.config.json'), `${out}.config.json`);
  const other = ckptDir('f16-prefix');
  const cases: Array<[string[], string]> = [
    [['--seed', '4'], 'seed (3 → 4)'],
    [['--temperature', '0.5', '--top-k', '5'], 'sampling.temperature (0.9 → 0.5), sampling.top_k (unset → 5)'],
    [['--model', other], `model (${JSON.stringify(F32)} → ${JSON.stringify(other)})`],
    [['--shard-index', '0', '--num-shards', '2'], 'shard_index (unset → 0), num_shards (unset → 2)'],
  ];
  for (const [args, diff] of cases) {
    const r = cli('run', ...common, '-o', out, '--resume', ...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr, `pipegpt: --resume: the output was written with other settings than this run's: ${diff} (from ${out}.config.json). ` +
      'Resuming would put records of both in one file; run with the same settings, write to another -o, or pass --resume-force to resume anyway.\n');
    t.is(readFileSync(out, 'utf8'), partial);
  }
  // the worker layout and backend change only speed: resuming under them is fine
  t.deepEqual(configDifferences({ model: F32, seed: 3, workers: 1, backend: 'native' }, { model: `${F32}/`, seed: 3, workers: 4, backend: 'reference' }), []);
  const f = cli('run', ...common, '-o', out, '--resume-force', '--seed', '4');
  t.is(f.status, 0, f.stderr);
  t.regex(f.stderr, /resume: settings differ from the output's \(seed \(3 → 4\)\); resuming anyway \(--resume-force\)/);
  t.is(records(out).length, N);
  t.is(JSON.parse(readFileSync(`${out}.config.json`, 'utf8')).seed, 4);
});

test.serial('disk full (here: ulimit -f) exits 2 saying so and how to resume; whole lines only; --resume completes it', (t) => {
  const out = join(dir, 'full.jsonl');
  const r = spawnSync('bash', ['-c', 'ulimit -f 8; exec "$0" "$@"', process.execPath, BIN, 'run', ...common, '-o', out], { encoding: 'utf8' });
  t.is(r.status, 2, r.stderr);
  t.regex(r.stderr, new RegExp(`^pipegpt: ${out}: file size limit reached \\(EFBIG; see ulimit -f\\) after \\d+ record\\(s\\) of this run; ` +
    'the file holds whole records only\\. Free some space, then rerun the same command with --resume to finish the rest\\.\\n$'));
  const text = readFileSync(out, 'utf8');
  t.true(text.endsWith('\n'));
  const kept = records(out).length;
  t.true(kept > 0 && kept < N, `${kept} records`);
  t.false(existsSync(`${out}.lock`));
  resumeToReference(t, out);
});
