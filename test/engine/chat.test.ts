// Chat requests in the engine: a conversation's prompt ids are its chat template rendered and
// tokenized (golden: Python Jinja2 + an independent BPE), it generates exactly as those ids do,
// and a model without a template or a malformed conversation fails only that request.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { prepareRequest } from '../../src/engine/prepare.js';
import type { GenerateRequest } from '../../src/engine/types.js';
import { RequestError } from '../../src/errors.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { IdsOnlyTokenizer } from '../../src/tokenizer/ids-only.js';
import { conversation, decodeRef, golden, QWEN3 } from '../helpers/chat-fixture.js';
import { ckptDir } from '../helpers/paths.js';

const engine = LocalEngine.open(QWEN3, { maxBatchedTokens: 64, maxSeqs: 8, kvCacheTokens: 512 });
const GREEDY = { temperature: 0, max_tokens: 8, ignore_eos: true };

test('the fixture tokenizer is the golden one: plain prompts encode to the reference ids', (t) => {
  t.true(engine.tok.chat !== undefined);
  for (const p of golden.prompts) t.deepEqual(engine.tok.encode(p.text), p.ids, p.text);
});

test('a chat request\'s prompt ids are the rendered template, tokenized once (golden ids, no added BOS)', (t) => {
  const convs = golden.conversations.filter((c) => c.add_generation_prompt);
  t.is(convs.length, 5);
  for (const c of convs) {
    const p = prepareRequest({ id: c.conversation, messages: c.messages, sampling: { max_tokens: 4 } }, engine.config, engine.tok);
    t.deepEqual(p.promptIds, c.ids, c.conversation);
    t.is(engine.tok.chat!(c.messages).text, c.text, c.conversation);
  }
  // the default system turn comes from the template; a user-typed <|im_end|> is parsed, as in HF and vLLM
  t.deepEqual(conversation('user only').ids.slice(0, 1), [golden.special['<|im_start|>']]);
  t.is(conversation('special in content').ids.filter((id) => id === golden.special['<|im_end|>']).length, 3);
});

test('a conversation generates exactly what its prompt ids generate; content is the decoded ids', async (t) => {
  const c = conversation('system+user');
  const [chat, ids] = await engine.generate([
    { id: 'chat', messages: c.messages, sampling: { ...GREEDY, logprobs: 2 } },
    { id: 'ids', prompt_token_ids: c.ids, sampling: { ...GREEDY, logprobs: 2 } },
  ]);
  t.is(chat.error, null);
  t.deepEqual(chat.prompt_token_ids, c.ids);
  t.deepEqual(chat.choices, ids.choices);
  const ch = chat.choices[0];
  t.is(ch.token_ids.length, 8);
  t.is(ch.text, decodeRef(ch.token_ids));
});

test('a model without a chat template refuses chat requests with chat_template_missing; the rest of the batch runs', async (t) => {
  const gpt2 = LocalEngine.open(ckptDir('f32'), { maxBatchedTokens: 32, maxSeqs: 4, kvCacheTokens: 256 });
  t.is(gpt2.tok.chat, undefined);
  const batch: GenerateRequest[] = [
    { id: 'a', prompt_token_ids: [1, 2, 3], sampling: GREEDY },
    { id: 'chat', messages: [{ role: 'user', content: 'hi' }], sampling: GREEDY },
    { id: 'b', prompt_token_ids: [4, 5], sampling: GREEDY },
  ];
  const out = await gpt2.generate(batch);
  t.deepEqual(out.map((c) => c.error?.code ?? null), [null, 'chat_template_missing', null]);
  t.regex(out[1].error!.message, /request "chat": this model's tokenizer has no chat template/);
  t.is(out[0].choices[0].token_ids.length, 8);
  t.is(out[2].choices[0].token_ids.length, 8);
  // a tokenizer.json without a template, and an ids-only model: the same typed refusal
  const dir = QWEN3;
  const config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));
  delete config.chat_template;
  const noTemplate = new HfTokenizer({ json: JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')), config });
  for (const tok of [noTemplate, new IdsOnlyTokenizer(768, dir)]) {
    const e = t.throws(() => prepareRequest({ id: 'x', messages: [{ role: 'user', content: 'hi' }] }, engine.config, tok), { instanceOf: RequestError });
    t.is((e as RequestError).code, 'chat_template_missing');
  }
});

test('malformed conversations are that request\'s invalid_request error, naming the field', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['hello', /messages: expected a non-empty array of \{"role", "content"\}, got "hello"/],
    [[], /messages: expected a non-empty array/],
    [[{ role: 'user', content: 'a' }, { content: 'b' }], /messages\[1\]\.role: expected a string, got nothing/],
    [[{ role: 'user' }], /messages\[0\]\.content: expected a string, got nothing/],
    [[{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], /messages\[0\]\.content: expected a string, got \[\{"type":"text"/],
    [[{ role: 'user', content: 7 }], /messages\[0\]\.content: expected a string, got 7/],
    [['x'], /messages\[0\]: expected \{"role": string, "content": string\}, got "x"/],
  ];
  const batch: GenerateRequest[] = bad.map(([messages], i) => ({ id: `bad-${i}`, messages: messages as GenerateRequest['messages'], sampling: GREEDY }));
  batch.push({ id: 'good', messages: conversation('user only').messages, sampling: GREEDY });
  const out = await engine.generate(batch);
  bad.forEach(([, re], i) => {
    t.is(out[i].error?.code, 'invalid_request', `bad-${i}`);
    t.regex(out[i].error!.message, re);
  });
  t.is(out[bad.length].error, null);
  t.deepEqual(out[bad.length].prompt_token_ids, conversation('user only').ids);
});

test('exactly one of prompt / prompt_token_ids / messages; a template that raises refuses the request', (t) => {
  const both = t.throws(() => prepareRequest({ id: 'x', prompt: 'a', messages: [{ role: 'user', content: 'b' }] }, engine.config, engine.tok), { instanceOf: RequestError });
  t.is((both as RequestError).code, 'invalid_request');
  t.regex(both!.message, /needs exactly one of "prompt" \(text\), "prompt_token_ids" \(array of ids\) or "messages" \(chat\), got "prompt" and "messages"/);
  t.regex(t.throws(() => prepareRequest({ id: 'x' }, engine.config, engine.tok))!.message, /got none/);
  const dir = QWEN3;
  const config = { ...JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')), chat_template: "{{ raise_exception('only one turn') }}" };
  const raising = new HfTokenizer({ json: JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')), config });
  const e = t.throws(() => prepareRequest({ id: 'r', messages: [{ role: 'user', content: 'hi' }] }, engine.config, raising), { instanceOf: RequestError });
  t.is((e as RequestError).code, 'invalid_request');
  t.regex(e!.message, /request "r": chat template raised: only one turn/);
  // a chat prompt plus max_tokens beyond the 64-token context: the usual refusal, numbers named
  const long = t.throws(() => prepareRequest({ id: 'l', messages: conversation('multi-turn').messages, sampling: { max_tokens: 20 } }, engine.config, engine.tok), { instanceOf: RequestError });
  t.is((long as RequestError).code, 'context_length_exceeded');
  t.regex(long!.message, /prompt of 51 tokens \+ max_tokens 20 = 71 exceeds the model's context of 64 tokens/);
});
