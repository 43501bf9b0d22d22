// The job's file checks (same file by inode, writable paths), the output lock and record writes
// that fail (disk full): each refusal is a JobError with its code and a message naming the path.
import test from 'ava';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { JobError } from '../../src/errors.js';
import { checkInputFile, checkWritableFile, OutputLock, sameFile, STALE_MS } from '../../src/job/files.js';
import { RecordWriter } from '../../src/job/output.js';
import { tmp, write } from './_helpers.js';

test('sameFile compares inodes: a hard link or a symlink to the input is the input', (t) => {
  const dir = tmp('same');
  const a = write(dir, 'a.jsonl', 'x\n');
  linkSync(a, join(dir, 'hard.jsonl'));
  symlinkSync(a, join(dir, 'soft.jsonl'));
  t.true(sameFile(a, join(dir, 'hard.jsonl')));
  t.true(sameFile(a, join(dir, 'soft.jsonl')));
  t.true(sameFile(a, join(dir, '.', 'a.jsonl')));
  t.false(sameFile(a, write(dir, 'b.jsonl', 'x\n')));
  t.false(sameFile(a, join(dir, 'missing.jsonl')));
});

test('checkInputFile and checkWritableFile name the path and what is wrong with it', (t) => {
  const dir = tmp('paths');
  const file = write(dir, 'f.txt', 'x');
  mkdirSync(join(dir, 'd'));
  const refuse = (fn: () => void) => t.throws(fn, { instanceOf: JobError }) as JobError;
  let e = refuse(() => checkInputFile('input', join(dir, 'nope.txt')));
  t.is(e.message, `input ${join(dir, 'nope.txt')}: no such file (ENOENT)`);
  t.is(e.code, 'input_unreadable');
  t.is(refuse(() => checkInputFile('input', join(dir, 'd'))).message, `input ${join(dir, 'd')} is a directory; expected a file`);
  e = refuse(() => checkWritableFile('output', join(dir, 'd')));
  t.is(e.message, `output ${join(dir, 'd')}: is a directory; expected a file path`);
  t.is(e.code, 'output_unwritable');
  t.is(refuse(() => checkWritableFile('metrics_json', join(file, 'm.json'))).message,
    `metrics_json ${join(file, 'm.json')}: cannot be created: ${file} is a file, not a directory`);
  t.is(refuse(() => checkWritableFile('output', '/dev/full')).message,
    'output /dev/full: is a character device; expected a regular file (it is truncated, appended to and resumed)');
  t.notThrows(() => checkWritableFile('output', join(dir, 'new', 'deeper', 'out.jsonl'))); // mkdir -p later
  t.notThrows(() => checkWritableFile('output', file));
  t.false(existsSync(join(dir, 'new'))); // a check creates nothing
});

test('a second lock on the same output is refused while the first is held, and free after release', (t) => {
  const out = join(tmp('lock'), 'out.jsonl');
  const lock = OutputLock.acquire(out);
  const held = JSON.parse(readFileSync(`${out}.lock`, 'utf8'));
  t.is(held.pid, process.pid);
  t.is(held.host, hostname());
  const e = t.throws(() => OutputLock.acquire(out), { instanceOf: JobError }) as JobError;
  t.is(e.code, 'output_locked');
  t.regex(e.message, new RegExp(`^output ${out} is in use by another pipegpt run \\(pid ${process.pid} on `));
  lock.release();
  t.false(existsSync(`${out}.lock`));
  OutputLock.acquire(out).release();
});

test('a stale lock is taken over: a dead or reused pid on this host, or another host\'s lock not refreshed for STALE_MS', (t) => {
  const dir = tmp('stale');
  const out = join(dir, 'out.jsonl');
  // a pid that existed and is gone: a child that has exited
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${out}.lock`, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: 'x', token: 't' }));
  const a = OutputLock.acquire(out);
  t.is(JSON.parse(readFileSync(`${out}.lock`, 'utf8')).pid, process.pid);
  a.release();
  // our own pid in a lock this process does not hold: left by an earlier process with that pid
  writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString(), token: 'old' }));
  OutputLock.acquire(out).release();
  // a live pid that started after the lock was taken is a reused pid, not the holder
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: child.pid, host: hostname(), started: new Date(Date.now() - 3600_000).toISOString(), token: 't' }));
    OutputLock.acquire(out).release();
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: child.pid, host: hostname(), started: new Date().toISOString(), token: 't' }));
    t.is((t.throws(() => OutputLock.acquire(out)) as JobError).code, 'output_locked');
  } finally {
    child.kill();
  }
  // another host's fresh lock cannot be checked: refused; the same lock untouched for longer is stale
  writeFileSync(`${out}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', started: 'x', token: 't' }));
  t.is((t.throws(() => OutputLock.acquire(out)) as JobError).code, 'output_locked');
  const old = new Date(Date.now() - STALE_MS - 1000);
  utimesSync(`${out}.lock`, old, old);
  OutputLock.acquire(out).release();
  t.false(existsSync(`${out}.lock`));
});

test('disk full: the writer names the file, the records written and --resume, and leaves no torn line', (t) => {
  const e = t.throws(() => {
    const w = new RecordWriter('/dev/full');
    try { w.writeLine('{"custom_id":"a"}'); } finally { w.close(); }
  }, { instanceOf: JobError }) as JobError;
  t.is(e.code, 'disk_full');
  t.is(e.message, '/dev/full: disk full (ENOSPC) after 0 record(s) of this run; the file holds whole records only. ' +
    'Free some space, then rerun the same command with --resume to finish the rest.');
  // EFBIG (ulimit -f) in a child: 1 KiB limit, three 400-byte lines: two are whole, the third is cut back
  const f = join(tmp('efbig'), 'out.jsonl');
  const script = `import('${new URL('../../src/job/output.js', import.meta.url).href}').then(({ RecordWriter }) => {
    const w = new RecordWriter(${JSON.stringify(f)});
    try { for (let i = 0; i < 3; i++) w.writeLine(JSON.stringify({ custom_id: 'r' + i, pad: 'x'.repeat(370) })); }
    catch (e) { process.stdout.write(e.code + ' ' + e.message); }
  })`;
  const r = spawnSync('bash', ['-c', `ulimit -f 1; exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
  t.regex(r.stdout, /^disk_full .*out\.jsonl: file size limit reached \(EFBIG; see ulimit -f\) after 2 record\(s\) of this run/);
  const text = readFileSync(f, 'utf8');
  t.true(text.endsWith('\n'));
  t.is(text.split('\n').length - 1, 2);
});
