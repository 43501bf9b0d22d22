// `pipegpt generate --chat TEXT` / `--messages FILE.json` on qwen3-f16 (fixture tokenizer with a
// ChatML template): each conversation generates what its golden prompt ids generate, in order,
// with the same --json fields as prompts; bad input exits 2 before or without losing the others.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conversation, decodeRef, QWEN3 } from '../helpers/chat-fixture.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const BIN = repoPath('dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const GREEDY = ['--temperature', '0', '--max-tokens', '6', '--ignore-eos', '--json'];
const dir = tempDir('gen-chat');

test('--chat (repeatable) and --messages answer in order, each as its golden prompt ids would', (t) => {
  const hello = conversation('user only'), france = conversation('system+user');
  const msgs = join(dir, 'conv.json');
  writeFileSync(msgs, JSON.stringify(france.messages));
  // --chat TEXT is one user turn: the template adds the default system turn, as in the golden
  t.deepEqual(hello.messages, [{ role: 'user', content: 'Hello!' }]);
  const r = run('generate', '--model', QWEN3, '--prompt-ids', hello.ids.join(','), '--prompt-ids', france.ids.join(','),
    '--chat', 'Hello!', '--messages', msgs, '--chat', 'Hi', ...GREEDY);
  t.is(r.status, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(out.length, 5); // prompt ids first, then the --chat conversations in order, then --messages
  for (const o of out) t.deepEqual(Object.keys(o), ['text', 'token_ids', 'finish_reason', 'stop_reason', 'logprobs']);
  t.deepEqual(out[2].token_ids, out[0].token_ids);
  t.deepEqual(out[4].token_ids, out[1].token_ids);
  for (const o of out) {
    t.is(o.token_ids.length, 6);
    t.is(o.text, decodeRef(o.token_ids));
  }
  const hi = run('generate', '--model', QWEN3, '--chat', 'Hi', ...GREEDY);
  t.deepEqual(JSON.parse(hi.stdout).token_ids, out[3].token_ids);
});

test('--messages: unreadable, not JSON or not a conversation exits 2 naming the file and field; no template: the request\'s error', (t) => {
  const notJson = join(dir, 'bad.json'), badShape = join(dir, 'shape.json');
  writeFileSync(notJson, '[{"role": ');
  writeFileSync(badShape, JSON.stringify([{ role: 'user', content: 'a' }, { role: 'assistant' }]));
  let r = run('generate', '--model', QWEN3, '--messages', notJson);
  t.is(r.status, 2);
  t.regex(r.stderr, /--messages .*bad\.json: invalid JSON/);
  r = run('generate', '--model', QWEN3, '--messages', badShape);
  t.is(r.status, 2);
  t.regex(r.stderr, /--messages .*shape\.json: messages\[1\]\.content: expected a string, got nothing/);
  r = run('generate', '--model', QWEN3, '--messages', join(dir, 'missing.json'));
  t.is(r.status, 2);
  t.regex(r.stderr, /cannot read \(ENOENT\)/);
  // the shipped GPT-2 model: the prompt is answered, the chat gets its error, exit 2
  r = run('generate', '--prompt', 'And God said', '--chat', 'hi', '--max-tokens', '2', '--json');
  t.is(r.status, 2);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines[0].token_ids.length, 2);
  t.is(lines[1].error.code, 'chat_template_missing');
  t.regex(r.stderr, /request "chat-0": this model's tokenizer has no chat template/);
});
