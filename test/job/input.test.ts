// Input formats (detection and parsing), per-request sampling overrides, duplicate custom_ids.
import test from 'ava';
import { JobError } from '../../src/errors.js';
import { detectFormat, parseLine, scanInput } from '../../src/job/input.js';
import { tmp, write } from './_helpers.js';

test('format detection by extension and first line', (t) => {
  const dir = tmp('fmt');
  t.is(detectFormat(write(dir, 'p.txt', '{"prompt": "x"}\n')), 'text');
  t.is(detectFormat(write(dir, 'a.jsonl', '\n{"custom_id":"a","method":"POST","url":"/v1/completions","body":{"prompt":"x"}}\n')), 'openai');
  t.is(detectFormat(write(dir, 'b.jsonl', '{"prompt": [1, 2]}\n')), 'jsonl');
  t.is(detectFormat(write(dir, 'c.data', 'In the beginning\n')), 'text');
  t.is(detectFormat(write(dir, 'd.data', '{"prompt": "x"}\n')), 'jsonl');
  t.is(detectFormat(write(dir, 'e.jsonl', 'In the beginning\n'), 'text'), 'text'); // explicit wins
});

test('OpenAI batch lines: body fields become sampling, prompt text or ids', (t) => {
  const r = parseLine('openai', { n: 1, text: JSON.stringify({ custom_id: 'x', method: 'POST', url: '/v1/completions', body: { model: 'gpt2', prompt: [5, 6], max_tokens: 3, temperature: 0 } }) });
  t.deepEqual(r, { n: 1, customId: 'x', request: { id: 'x', prompt_token_ids: [5, 6], sampling: { max_tokens: 3, temperature: 0 } } });
  const text = parseLine('openai', { n: 2, text: JSON.stringify({ custom_id: 'y', method: 'POST', url: '/v1/completions', body: { prompt: 'hi' } }) });
  t.is(text.request?.prompt, 'hi');
  const url = parseLine('openai', { n: 3, text: JSON.stringify({ custom_id: 'z', method: 'POST', url: '/v1/embeddings', body: { prompt: 'hi' } }) });
  t.deepEqual(url.error, { code: 'invalid_url', message: 'line 3: url must be "/v1/completions" or "/v1/chat/completions", got "/v1/embeddings"' });
  t.is(url.customId, 'z');
});

test('simple JSONL: custom_id defaults to line-<n>; malformed lines become errors', (t) => {
  const r = parseLine('jsonl', { n: 7, text: '{"prompt": "a", "top_k": 5}' });
  t.deepEqual(r, { n: 7, customId: 'line-7', request: { id: 'line-7', prompt: 'a', sampling: { top_k: 5 } } });
  t.is(parseLine('jsonl', { n: 8, text: '{"prompt": ' }).error?.code, 'invalid_json');
  t.is(parseLine('jsonl', { n: 9, text: '{"prompt": {"a": 1}}' }).error?.code, 'invalid_request');
  t.is(parseLine('jsonl', { n: 9, text: '[1, 2]' }).customId, 'line-9');
});

test('plain text: one prompt per line, custom_id from the line number', (t) => {
  t.deepEqual(parseLine('text', { n: 4, text: 'And God said' }), { n: 4, customId: 'line-4', request: { id: 'line-4', prompt: 'And God said' } });
});

test('duplicate custom_ids are refused up front, naming both lines', async (t) => {
  const dir = tmp('dup');
  const f = write(dir, 'in.jsonl', '{"custom_id":"a","prompt":[1]}\n{"custom_id":"b","prompt":[1]}\n\n{"custom_id":"a","prompt":[2]}\n');
  const e = await t.throwsAsync(scanInput(f, 'jsonl'), { instanceOf: JobError });
  t.is(e?.message, `${f}: duplicate custom_id "a" on lines 1 and 4`);
  const ok = await scanInput(write(dir, 'ok.txt', 'a\n\nb\n'), 'text', () => true, true);
  t.deepEqual(ok, { total: 2, selected: 2, ids: ['line-1', 'line-3'] });
});
