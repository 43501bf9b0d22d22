// `pipegpt run` end to end on small models: every input format, one output line per input line
// in the OpenAI batch output shape, error lines that do not stop the job, refused jobs (exit 2).
import test from 'ava';
import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomCheckpoint } from '../helpers/random-checkpoint.js';
import { cli, F32, idPrompts, records, tmp, write } from './_helpers.js';

// full GPT-2 vocabulary (text prompts), tiny everything else
const TEXT_MODEL = randomCheckpoint({ L: 1, H: 2, C: 16, V: 50257, P: 64, seed: 7 });

test('OpenAI batch input: output shape, usage, error lines for bad requests', (t) => {
  const dir = tmp('openai');
  const line = (id: string, body: object, url = '/v1/completions') => JSON.stringify({ custom_id: id, method: 'POST', url, body });
  const input = write(dir, 'batch.jsonl', [
    line('ok', { model: 'f32', prompt: [1, 2, 3], max_tokens: 4, temperature: 0 }),
    line('long', { prompt: Array(60).fill(7), max_tokens: 10 }),
    line('badparam', { prompt: [1], top_p: 1.5 }),
    line('badurl', { prompt: [1] }, '/v1/embeddings'),
    '{"custom_id": "torn", ',
  ].join('\n') + '\n');
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '--model', F32, '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  const recs = new Map(records(out).map((x) => [x.custom_id, x]));
  t.is(recs.size, 5);
  const ok = recs.get('ok')!;
  t.deepEqual(Object.keys(ok), ['id', 'custom_id', 'response', 'error']);
  t.is(ok.error, null);
  t.is(ok.response?.status_code, 200);
  const body = ok.response!.body as { object: string; choices: Array<{ token_ids: number[]; finish_reason: string }>; usage: object };
  t.is(body.object, 'text_completion');
  t.is(body.choices[0].token_ids.length, 4);
  t.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  const long = recs.get('long')!;
  t.is(long.response?.status_code, 400);
  t.is(long.error?.code, 'context_length_exceeded');
  t.regex(long.error!.message, /prompt of 60 tokens \+ max_tokens 10 = 70 exceeds the model's context of 64 tokens/);
  t.regex(recs.get('badparam')!.error!.message, /top_p must be in \(0, 1\], got 1\.5/);
  t.is(recs.get('badurl')!.response, null);
  t.is(recs.get('badurl')!.error?.code, 'invalid_url');
  t.is(recs.get('line-5')!.error?.code, 'invalid_json');
  t.regex(r.stderr, /1 ok, 4 failed/);
});

test('simple JSONL: job sampling defaults overlaid by each request\'s fields', (t) => {
  const dir = tmp('jsonl');
  const input = write(dir, 'in.jsonl', '{"custom_id":"a","prompt":[4,5,6]}\n{"prompt":[4,5,6],"max_tokens":2}\n');
  const conf = write(dir, 'job.yaml', `sampling:\n  max_tokens: 5\n  temperature: 0\n  ignore_eos: true\n`);
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '-c', conf, '--model', F32, '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  const recs = new Map(records(out).map((x) => [x.custom_id, x.response!.body as { choices: Array<{ token_ids: number[] }> }]));
  const a = recs.get('a')!.choices[0].token_ids, b = recs.get('line-2')!.choices[0].token_ids;
  t.is(a.length, 5);
  t.deepEqual(b, a.slice(0, 2)); // greedy: the same prompt continues the same way
});

test('plain text input: one prompt per line, custom_id line-<n>, progress lines when not a TTY', (t) => {
  const dir = tmp('text');
  const input = write(dir, 'prompts.txt', 'In the beginning\n\nAnd God said\nBlessed are the\n');
  const out = join(dir, 'out.jsonl');
  const metrics = join(dir, 'metrics.json');
  const r = cli('run', '--model', TEXT_MODEL, '-i', input, '-o', out, '--max-tokens', '3', '--progress-interval-s', '0.01', '--metrics-json', metrics);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(records(out).map((x) => x.custom_id).sort(), ['line-1', 'line-3', 'line-4']);
  t.true(records(out).every((x) => x.response?.status_code === 200));
  const m = JSON.parse(readFileSync(metrics, 'utf8'));
  t.deepEqual(m.requests, { total: 3, ok: 3, failed: 0, skipped_done: 0, not_run: 0 });
  t.is(m.tokens.generated, 9);
  for (const k of ['ttft', 'tpot', 'itl']) t.true(m.latency_ms[k].count > 0 && m.latency_ms[k].p99 >= m.latency_ms[k].p50, k);
  t.is(typeof m.backend, 'string');
  t.is(m.stages.length, 1);
  t.regex(r.stderr, /TTFT mean [\d.]+ +p50 [\d.]+ +p99 [\d.]+ ms/);
  t.regex(r.stderr, /busy %/);
  t.regex(r.stderr, /progress: 3\/3 requests/);
});

test('duplicate custom_ids and -o = -i are refused with exit 2 before anything runs', (t) => {
  const dir = tmp('refuse');
  const input = write(dir, 'in.jsonl', '{"custom_id":"x","prompt":[1]}\n{"custom_id":"y","prompt":[1]}\n{"custom_id":"x","prompt":[2]}\n');
  const d = cli('run', '--model', F32, '-i', input, '-o', join(dir, 'out.jsonl'));
  t.is(d.status, 2);
  t.regex(d.stderr, /duplicate custom_id "x" on lines 1 and 3/);
  const same = cli('run', '--model', F32, '-i', input, '-o', input);
  t.is(same.status, 2);
  t.regex(same.stderr, /is the input file/);
  t.is(readFileSync(input, 'utf8').split('\n').length, 4); // input untouched
});

test('a job refused at engine start (backend, workers, model) leaves an existing output as it was', (t) => {
  const dir = tmp('keep');
  const input = write(dir, 'in.jsonl', idPrompts(2));
  const out = write(dir, 'out.jsonl', '{"custom_id":"earlier"}\n');
  const cases: Array<[string[], string]> = [
    [['--backend', 'cuda'], 'pipegpt: unknown kernel backend "cuda" (known: auto, reference, native, gpujs)\n'],
    [['--workers', '300'], 'pipegpt: --workers must be an integer in [1, 256], got 300\n'],
    [['--model', join(dir, 'no-model')], `pipegpt: ${join(dir, 'no-model', 'config.json')}: cannot read config.json (ENOENT)\n`],
  ];
  for (const [args, message] of cases) {
    const r = cli('run', '--model', F32, '-i', input, '-o', out, '--quiet', ...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr, message);
    t.is(readFileSync(out, 'utf8'), '{"custom_id":"earlier"}\n', args.join(' '));
    t.false(existsSync(`${out}.config.json`), args.join(' '));
    t.false(existsSync(`${out}.lock`), args.join(' '));
  }
});

test('-o a hard link to -i is refused (same inode), and the input is untouched', (t) => {
  const dir = tmp('hardlink');
  const text = idPrompts(3);
  const input = write(dir, 'in.jsonl', text);
  linkSync(input, join(dir, 'out.jsonl'));
  const r = cli('run', '--model', F32, '-i', input, '-o', join(dir, 'out.jsonl'), '--quiet');
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: output ${join(dir, 'out.jsonl')} is the input file; choose another -o\n`);
  t.is(readFileSync(input, 'utf8'), text);
  const m = cli('run', '--model', F32, '-i', input, '-o', join(dir, 'o2.jsonl'), '--metrics-json', join(dir, 'out.jsonl'), '--quiet');
  t.is(m.status, 2);
  t.is(m.stderr, `pipegpt: metrics_json ${join(dir, 'out.jsonl')} is the input file\n`);
  t.is(readFileSync(input, 'utf8'), text);
});

test('unusable paths are refused with exit 2 and a message before the job runs, never a stack', (t) => {
  const dir = tmp('badpaths');
  const input = write(dir, 'in.jsonl', idPrompts(2));
  const file = write(dir, 'plain.txt', 'x');
  mkdirSync(join(dir, 'adir'));
  const cases: Array<[string[], string]> = [
    [['-i', input, '-o', '/proc/pipegpt-out.jsonl'], 'pipegpt: output /proc/pipegpt-out.jsonl: cannot create files in its directory /proc (ENOENT)'],
    [['-i', input, '-o', join(dir, 'adir')], `pipegpt: output ${join(dir, 'adir')}: is a directory; expected a file path`],
    [['-i', input, '-o', '/dev/full'], 'pipegpt: output /dev/full: is a character device; expected a regular file (it is truncated, appended to and resumed)'],
    [['-i', join(dir, 'adir'), '-o', join(dir, 'o.jsonl')], `pipegpt: input ${join(dir, 'adir')} is a directory; expected a file`],
    [['-i', join(dir, 'nope.txt'), '-o', join(dir, 'o.jsonl')], `pipegpt: input ${join(dir, 'nope.txt')}: no such file (ENOENT)`],
    [['-i', join(dir, 'nope'), '--input-format', 'jsonl', '-o', join(dir, 'o.jsonl')], `pipegpt: input ${join(dir, 'nope')}: no such file (ENOENT)`],
    [['-i', input, '-o', join(dir, 'o.jsonl'), '--metrics-json', join(file, 'm.json')], `pipegpt: metrics_json ${join(file, 'm.json')}: cannot be created: ${file} is a file, not a directory`],
    [['-i', input, '-o', join(dir, 'o.jsonl'), '--profile', join(file, 'p.html')], `pipegpt: profile ${join(file, 'p.html')}: cannot be created: ${file} is a file, not a directory`],
  ];
  for (const [args, message] of cases) {
    const r = cli('run', '--model', F32, '--quiet', ...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr, message + '\n');
  }
  t.false(existsSync(join(dir, 'o.jsonl')));
});

test('an error record echoes at most 200 characters of a bad value', (t) => {
  const dir = tmp('echo');
  const input = write(dir, 'in.jsonl', JSON.stringify({ custom_id: 'big', prompt: { text: 'y'.repeat(100_000) } }) + '\n');
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '--model', F32, '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  const [rec] = records(out);
  t.is(rec.error?.message, `line 1: prompt must be a string or an array of token ids, got {"text":"${'y'.repeat(191)}… (99811 more bytes)`);
});
