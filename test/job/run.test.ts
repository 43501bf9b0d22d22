// `pipegpt run` end to end on small models: every input format, one output line per input line
// in the OpenAI batch output shape, error lines that do not stop the job, refused jobs (exit 2).
import test from 'ava';
import { readFileSync } from 'node:fs';
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
