// --shard-index/--num-shards: a stable assignment by custom_id (FNV-1a mod n) that partitions the
// input; `pipegpt merge` joins shard outputs back in input order.
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a32, naturalCompare, shardOf } from '../../src/job/shard.js';
import { byId, cli, F32, records, tmp, write } from './_helpers.js';

test('FNV-1a matches the reference values and the assignment is stable', (t) => {
  t.is(fnv1a32(''), 0x811c9dc5);
  t.is(fnv1a32('a'), 0xe40c292c);
  t.is(fnv1a32('foobar'), 0xbf9cf968);
  const ids = Array.from({ length: 500 }, (_, i) => `req-${i}`);
  const a = ids.map((id) => shardOf(id, 4)), b = ids.map((id) => shardOf(id, 4));
  t.deepEqual(a, b);
  for (let s = 0; s < 4; s++) t.true(a.filter((x) => x === s).length > 80, `shard ${s} is not starved`);
  t.deepEqual(['line-10', 'line-2', 'line-1'].sort(naturalCompare), ['line-1', 'line-2', 'line-10']);
});

test('shards partition the job; merge restores input order and equals a single run', (t) => {
  const dir = tmp('shard');
  // ids in an order that is neither sorted nor natural
  const ids = Array.from({ length: 24 }, (_, i) => `q${(i * 7) % 24}`);
  const input = write(dir, 'in.jsonl', ids.map((id, i) => JSON.stringify({ custom_id: id, prompt: [i + 1, 2], max_tokens: 3 })).join('\n') + '\n');
  const common = ['--model', F32, '-i', input, '--seed', '1', '--quiet'];
  const shards = [0, 1, 2].map((i) => {
    const out = join(dir, `shard-${i}.jsonl`);
    const r = cli('run', ...common, '-o', out, '--shard-index', String(i), '--num-shards', '3');
    t.is(r.status, 0, r.stderr);
    t.true(records(out).every((x) => shardOf(x.custom_id, 3) === i));
    return out;
  });
  t.is(shards.map((s) => records(s).length).reduce((a, b) => a + b, 0), ids.length);
  const merged = join(dir, 'merged.jsonl');
  const m = cli('merge', '-o', merged, '--input', input, ...shards);
  t.is(m.status, 0, m.stderr);
  t.deepEqual(records(merged).map((x) => x.custom_id), ids);
  const single = join(dir, 'single.jsonl');
  t.is(cli('run', ...common, '-o', single).status, 0);
  t.deepEqual(byId(merged), byId(single));
  // without --input: natural custom_id order
  const nat = join(dir, 'natural.jsonl');
  t.is(cli('merge', '-o', nat, ...shards).status, 0);
  t.deepEqual(records(nat).map((x) => x.custom_id), [...ids].sort(naturalCompare));
  // a missing shard is reported (exit 2), naming the count
  const part = cli('merge', '-o', join(dir, 'part.jsonl'), '--input', input, shards[0], shards[1]);
  t.is(part.status, 2);
  t.regex(part.stderr, /\d+ custom_ids of .* have no output/);
  t.true(readFileSync(join(dir, 'part.jsonl'), 'utf8').length > 0);
});

test('merge refuses shard lines that are not whole output records, naming each, and writes nothing', (t) => {
  const dir = tmp('merge-bad');
  const rec = (id: string) => JSON.stringify({ id: `batch_req_${id}`, custom_id: id, response: { status_code: 200, body: {} }, error: null });
  const input = write(dir, 'in.jsonl', ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ custom_id: id, prompt: [1] })).join('\n') + '\n');
  const good = write(dir, 'good.jsonl', `${rec('a')}\n${rec('b')}\n`);
  const corrupt = write(dir, 'corrupt.jsonl', `${rec('c')}\n{"custom_id": "x", \n${rec('d')}\n`);
  const torn = write(dir, 'torn.jsonl', rec('d').slice(0, 40));
  const out = join(dir, 'merged.jsonl');
  const merge = (...args: string[]) => cli('merge', '-o', out, ...args);
  const tail = ' Rerun an interrupted shard with --resume (it drops a torn last line), then merge again.\n';
  let r = merge(good, corrupt);
  t.is(r.status, 2);
  // (the JSON parser's own words differ between Node versions)
  t.true(r.stderr.startsWith(`pipegpt: 1 shard line(s) are not whole output records, so nothing was merged: ${corrupt}:2: not a JSON record (`), r.stderr);
  t.true(r.stderr.endsWith(`).${tail}`), r.stderr);
  r = merge(good, torn);
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: 1 shard line(s) are not whole output records, so nothing was merged: ${torn}:1: torn last line ` +
    `(40 bytes without a newline: the shard was interrupted mid-write).${tail}`);
  // the job input given as a shard: with --input it is named as such; without, its lines are not records
  r = merge('--input', input, good, input);
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: shard ${input} is the job input (--input), not a shard output\n`);
  r = merge(good, input);
  t.is(r.status, 2);
  t.regex(r.stderr, new RegExp(`^pipegpt: 4 shard line\\(s\\) are not whole output records, so nothing was merged: ${input}:1: not an output record ` +
    '\\(keys custom_id, prompt; a shard output has "custom_id", "response" and "error"\\); '));
  r = merge(good, join(dir, 'missing.jsonl'));
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: shard ${join(dir, 'missing.jsonl')}: no such file (ENOENT)\n`);
  r = cli('merge', '-o', good, good);
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: output ${good} is one of the shard files\n`);
  t.false(existsSync(out));
  // whole shards merge
  writeFileSync(corrupt, `${rec('c')}\n${rec('d')}\n`);
  r = merge('--input', input, good, corrupt);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(records(out).map((x) => x.custom_id), ['a', 'b', 'c', 'd']);
});
