// Chat lines in batch jobs: /v1/chat/completions bodies and simple-JSONL "messages" lines run
// next to completions lines, one output line per input line; chat answers in the OpenAI
// chat.completion shape, their content the decoded ids (golden byte table), their logprobs in
// the chat shape; bad lines are error records with their codes.
import test from 'ava';
import { join } from 'node:path';
import { parseLine } from '../../src/job/input.js';
import { bytesRef, conversation, decodeRef, golden, QWEN3 } from '../helpers/chat-fixture.js';
import { repoPath } from '../helpers/paths.js';
import { cli, records, tmp, write, type Rec } from './_helpers.js';

const chatLine = (id: string, body: object) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body });
const cmplLine = (id: string, body: object) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/completions', body });
const GREEDY = { temperature: 0, ignore_eos: true };

test('chat bodies: OpenAI chat fields become SamplingParams; prompt / messages on the wrong url are refused', (t) => {
  const m = [{ role: 'user', content: 'hi' }];
  const r = parseLine('openai', { n: 1, text: chatLine('c', { model: 'q', messages: m, max_completion_tokens: 5, max_tokens: 9, logprobs: true, top_logprobs: 3, top_k: 4, stop: ['x'], seed: 1, user: 'u' }) });
  t.deepEqual(r, { n: 1, customId: 'c', request: { id: 'c', messages: m, sampling: { max_tokens: 5, top_k: 4, stop: ['x'], seed: 1, logprobs: 3 } } });
  t.is(parseLine('openai', { n: 1, text: chatLine('c', { messages: m, logprobs: true }) }).request?.sampling?.logprobs, 0);
  t.is(parseLine('openai', { n: 1, text: chatLine('c', { messages: m, logprobs: false }) }).request?.sampling?.logprobs, null);
  const err = (body: object, url = '/v1/chat/completions') => parseLine('openai', { n: 4, text: JSON.stringify({ custom_id: 'e', url, body }) }).error;
  t.deepEqual(err({ messages: m, logprobs: 2 }), { code: 'invalid_request', message: 'line 4: logprobs must be true or false in a chat request (top_logprobs gives the count), got 2' });
  t.deepEqual(err({ messages: m, top_logprobs: 2 }), { code: 'invalid_request', message: 'line 4: top_logprobs needs "logprobs": true' });
  t.deepEqual(err({ messages: m, logprobs: true, top_logprobs: 21 }), { code: 'invalid_sampling_params', message: 'line 4: top_logprobs must be an integer in [0, 20], got 21' });
  t.regex(err({ prompt: 'hi' })!.message, /a chat request takes "messages", not "prompt"/);
  t.regex(err({})!.message, /a chat request needs "messages"/);
  t.regex(err({ messages: m }, '/v1/completions')!.message, /"messages" go to url "\/v1\/chat\/completions"/);
  // simple JSONL: a "messages" line is a chat request with the same fields
  t.deepEqual(parseLine('jsonl', { n: 2, text: JSON.stringify({ messages: m, logprobs: true }) }),
    { n: 2, customId: 'line-2', request: { id: 'line-2', messages: m, sampling: { logprobs: 0 } } });
});

const byId = (file: string) => new Map(records(file).map((x) => [x.custom_id, x]));
type ChatBody = {
  id: string; object: string; model: string; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string; token_ids: number[];
    logprobs: { content: Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }> }> } | null }>;
};
type CmplBody = { object: string; choices: Array<{ text: string; token_ids: number[]; logprobs: Array<{ token_id: number; logprob: number; top_logprobs: Array<{ token_id: number; logprob: number }> }> | null }>; usage: { prompt_tokens: number } };
const body = <T>(r: Rec) => r.response!.body as unknown as T;

test('a mixed OpenAI batch file on qwen3-f16: completions and chat lines side by side, bad lines as error records', (t) => {
  const dir = tmp('chat-mixed');
  const user = conversation('user only'), sys = conversation('system+user');
  const input = write(dir, 'batch.jsonl', [
    cmplLine('text', { prompt: 'The quick brown fox', max_tokens: 4, ...GREEDY }),
    cmplLine('ids', { prompt: user.ids, max_tokens: 8, logprobs: 2, ...GREEDY }),
    chatLine('chat', { model: 'qwen3', messages: user.messages, max_completion_tokens: 8, logprobs: true, top_logprobs: 2, ...GREEDY }),
    chatLine('chat-n', { messages: sys.messages, max_tokens: 5, n: 2, temperature: 0.8, seed: 3 }),
    chatLine('bad-content', { messages: [{ role: 'user', content: 5 }] }),
    chatLine('no-messages', { max_tokens: 3 }),
    chatLine('bad-logprobs', { messages: user.messages, logprobs: 2 }),
    chatLine('too-long', { messages: conversation('multi-turn').messages, max_tokens: 20 }),
    cmplLine('msgs-on-completions', { messages: user.messages }),
    JSON.stringify({ custom_id: 'bad-url', url: '/v1/embeddings', body: { messages: user.messages } }),
  ].join('\n') + '\n');
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '--model', QWEN3, '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  t.is(records(out).length, 10);
  const recs = byId(out);

  // completions lines: exactly the completions shape
  const text = body<CmplBody>(recs.get('text')!);
  t.is(text.object, 'text_completion');
  t.is(text.usage.prompt_tokens, golden.prompts[0].ids.length);
  t.is(text.choices[0].text, decodeRef(text.choices[0].token_ids));

  // the chat line: chat.completion shape; the same tokens as its prompt ids sent as a completion
  const chat = recs.get('chat')!;
  t.is(chat.error, null);
  t.is(chat.response!.status_code, 200);
  const cb = body<ChatBody>(chat), ib = body<CmplBody>(recs.get('ids')!);
  t.deepEqual(Object.keys(cb), ['id', 'object', 'created', 'model', 'choices', 'usage']);
  t.regex(cb.id, /^chatcmpl-[0-9a-f]{16}$/);
  t.is(cb.object, 'chat.completion');
  t.is(cb.model, 'qwen3-f16');
  t.like(cb.usage, { prompt_tokens: user.ids.length, completion_tokens: 8, total_tokens: user.ids.length + 8 });
  // the same usage shape as completions: prompt tokens served from the prefix cache (their number depends on what ran before)
  const cached = (cb.usage as { prompt_tokens_details?: { cached_tokens: number } }).prompt_tokens_details?.cached_tokens;
  t.true(Number.isInteger(cached) && cached! >= 0 && cached! < user.ids.length);
  const ch = cb.choices[0];
  t.deepEqual(Object.keys(ch), ['index', 'message', 'logprobs', 'finish_reason', 'stop_reason', 'token_ids']);
  t.deepEqual(ch.token_ids, ib.choices[0].token_ids);
  t.deepEqual(ch.message, { role: 'assistant', content: decodeRef(ch.token_ids) });
  t.is(ch.finish_reason, 'length');
  const lp = ch.logprobs!.content, ref = ib.choices[0].logprobs!;
  t.is(lp.length, 8);
  lp.forEach((e, k) => {
    t.deepEqual(Object.keys(e), ['token', 'logprob', 'bytes', 'top_logprobs']);
    t.is(e.logprob, ref[k].logprob);
    t.deepEqual(e.bytes, bytesRef(ch.token_ids[k]));
    t.is(e.top_logprobs.length, 2);
    e.top_logprobs.forEach((x, j) => {
      t.is(x.logprob, ref[k].top_logprobs[j].logprob);
      t.deepEqual(x.bytes, bytesRef(ref[k].top_logprobs[j].token_id));
    });
  });
  const n2 = body<ChatBody>(recs.get('chat-n')!);
  t.deepEqual(n2.choices.map((c) => c.index), [0, 1]);
  for (const c of n2.choices) t.is(c.message.content, decodeRef(c.token_ids));
  t.is(n2.usage.prompt_tokens, sys.ids.length);

  // refused by the engine: a 400 response with the code; never reached it: response null
  const bad = recs.get('bad-content')!;
  t.is(bad.response!.status_code, 400);
  t.is(bad.error!.code, 'invalid_request');
  t.regex(bad.error!.message, /request "bad-content": messages\[0\]\.content: expected a string, got 5/);
  t.is(recs.get('too-long')!.error!.code, 'context_length_exceeded');
  for (const [id, code] of [['no-messages', 'invalid_request'], ['bad-logprobs', 'invalid_request'], ['msgs-on-completions', 'invalid_request'], ['bad-url', 'invalid_url']]) {
    t.is(recs.get(id)!.response, null, id);
    t.is(recs.get(id)!.error!.code, code, id);
  }
  t.regex(r.stderr, /4 ok, 6 failed/);
});

test('simple JSONL on qwen3-f16: prompt lines and messages lines, a bad conversation', (t) => {
  const dir = tmp('chat-jsonl');
  const user = conversation('user only');
  const input = write(dir, 'in.jsonl', [
    JSON.stringify({ custom_id: 'p', prompt: user.ids, max_tokens: 6, ...GREEDY }),
    JSON.stringify({ custom_id: 'm', messages: user.messages, max_tokens: 6, ...GREEDY }),
    JSON.stringify({ custom_id: 'bad', messages: [{ role: 'user', content: 'a' }, { content: 'b' }] }),
    JSON.stringify({ custom_id: 'both', prompt: 'x', messages: user.messages }),
  ].join('\n') + '\n');
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '--model', QWEN3, '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  const recs = byId(out);
  t.is(recs.size, 4);
  const p = body<CmplBody>(recs.get('p')!), m = body<ChatBody>(recs.get('m')!);
  t.is(p.object, 'text_completion');
  t.is(m.object, 'chat.completion');
  t.deepEqual(m.choices[0].token_ids, p.choices[0].token_ids);
  t.is(m.choices[0].message.content, decodeRef(p.choices[0].token_ids));
  t.is(m.choices[0].logprobs, null);
  t.is(recs.get('bad')!.error!.code, 'invalid_request');
  t.regex(recs.get('bad')!.error!.message, /messages\[1\]\.role: expected a string, got nothing/);
  t.is(recs.get('both')!.error!.code, 'invalid_request');
  t.regex(recs.get('both')!.error!.message, /a chat request takes "messages", not "prompt"/);
});

test('the shipped GPT-2 model has no chat template: chat lines are chat_template_missing records, prompts still run', (t) => {
  const dir = tmp('chat-gpt2');
  const input = write(dir, 'batch.jsonl', [
    chatLine('chat', { messages: [{ role: 'user', content: 'And God said' }], max_tokens: 3 }),
    cmplLine('prompt', { prompt: 'And God said', max_tokens: 3 }),
  ].join('\n') + '\n');
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '--model', repoPath('models/kjv-gpt2-tiny'), '-i', input, '-o', out, '--quiet');
  t.is(r.status, 0, r.stderr);
  const recs = byId(out);
  const chat = recs.get('chat')!;
  t.is(chat.response!.status_code, 400);
  t.deepEqual(chat.error!.code, 'chat_template_missing');
  t.regex(chat.error!.message, /has no chat template/);
  t.is(body<CmplBody>(recs.get('prompt')!).choices[0].token_ids.length, 3);
});

test('the shipped configs/prompts/chat.jsonl (hub chat configs) parses into chat requests', async (t) => {
  const { detectFormat, readLines } = await import('../../src/job/input.js');
  const file = repoPath('configs/prompts/chat.jsonl');
  t.is(detectFormat(file), 'jsonl');
  let n = 0;
  for await (const line of readLines(file)) {
    const r = parseLine('jsonl', line);
    t.is(r.error, undefined, r.customId);
    t.true(Array.isArray(r.request?.messages), r.customId);
    n++;
  }
  t.is(n, 6);
});
