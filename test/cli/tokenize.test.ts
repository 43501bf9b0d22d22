// `pipegpt tokenize` as a user runs it, on model directories made of the real Llama 3 tokenizer
// files (no weights: a model.safetensors that is not one proves they are never read). Expected
// ids come from HF's Rust tokenizers and Jinja2 (test/fixtures/tokenizer, test/fixtures/chat).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/paths.js';
import { fixture, modelFilesDir, readJson, tokenizerJsonOf } from '../helpers/tokenizer-files.js';
import { tempDir } from '../helpers/temp.js';

const BIN = repoPath('dist/src/cli/main.js');
// asynchronous, so that the tests' processes overlap (each loads a 9 MB tokenizer.json)
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'tokenize', ...args]);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const tmp = tempDir('tokenize');

function modelDir(name: string, tokenizerJson: string | null): string {
  const dir = join(tmp, name);
  spawnSync('mkdir', ['-p', dir]);
  if (tokenizerJson === null) symlinkSync(`${modelFilesDir('llama3')}/tokenizer.json`, join(dir, 'tokenizer.json'));
  else writeFileSync(join(dir, 'tokenizer.json'), tokenizerJson);
  symlinkSync(`${modelFilesDir('llama3')}/tokenizer_config.json`, join(dir, 'tokenizer_config.json'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', vocab_size: 128256, bos_token_id: 128000, eos_token_id: 128001 }));
  writeFileSync(join(dir, 'model.safetensors'), 'not a safetensors file: tokenize must not read weights');
  return dir;
}
// the real files as they are (ByteLevel post-processor: HF adds no BOS), and with the
// post-processor of meta-llama's released tokenizer.json (adds <|begin_of_text|>)
const LLAMA3 = modelDir('llama3', null);
const LLAMA3_META = modelDir('llama3-meta', JSON.stringify(tokenizerJsonOf('llama3-meta')));

// one process per case: each loads the 9 MB tokenizer.json (the library tests cover the corpus)
test('--text prints HF\'s ids; BOS only where the tokenizer adds it; specials are text', async (t) => {
  for (const [name, dir, text] of [['llama3', LLAMA3, 'emoji'], ['llama3-meta', LLAMA3_META, 'a <|eot_id|>']] as const) {
    const c = fixture(`golden-${name}.json`).cases.find((x: any) => x.text.startsWith(text));
    const r = await run('--model', dir, '--text', c.text, '--json');
    t.is(r.status, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout), { ids: c.ids, text: c.text });
    t.is(c.ids[0] === 128000, name === 'llama3-meta');
    t.false(c.ids.includes(128009));
  }
});

test('--allow-special parses special-token strings; plain output is comma-separated ids', async (t) => {
  const c = fixture('golden-llama3-meta.json').cases.find((x: any) => x.text.startsWith('a <|eot_id|>'));
  const r = await run('--model', LLAMA3_META, '--text', c.text, '--allow-special');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split(',').map(Number), c.ids_special);
  t.true(c.ids_special.includes(128009));
});

test('--chat renders the model\'s template with the generation prompt and tokenizes it once', async (t) => {
  const g = readJson(repoPath('test/fixtures/chat/llama3.json'));
  const c = g.cases.find((x: any) => x.conversation === 'multi-turn' && x.add_generation_prompt);
  const file = join(tmp, 'messages.json');
  writeFileSync(file, JSON.stringify(c.messages));
  // the directory whose encode() adds <|begin_of_text|>: still one, the template's
  const r = await run('--model', LLAMA3_META, '--chat', file, '--json');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { ids: c.ids, text: c.text });
  t.is(c.ids.filter((x: number) => x === 128000).length, 1);
});

test('the default model is the shipped GPT-2 one', async (t) => {
  const r = await run('--text', 'Hello world', '--json');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { ids: [15496, 995], text: 'Hello world' });
});

test('bad input exits 2 with a named reason', async (t) => {
  const broken = join(tmp, 'broken');
  spawnSync('mkdir', ['-p', broken]);
  writeFileSync(join(broken, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [] } }));
  let r = await run('--model', broken, '--text', 'x');
  t.is(r.status, 2);
  t.regex(r.stderr, /broken\/tokenizer\.json: "model\.type": expected "BPE".*got "Unigram"/);

  const msgs = join(tmp, 'm.json');
  writeFileSync(msgs, JSON.stringify([{ role: 'user', content: 'hi' }]));
  r = await run('--chat', msgs);
  t.is(r.status, 2);
  t.regex(r.stderr, /no chat template/);

  r = await run('--model', LLAMA3);
  t.is(r.status, 2);
  t.regex(r.stderr, /exactly one of --text TEXT or --chat/);

  writeFileSync(msgs, JSON.stringify([{ role: 'user' }]));
  r = await run('--model', LLAMA3, '--chat', msgs);
  t.is(r.status, 2);
  t.regex(r.stderr, /m\.json\[0\]\.content: expected a string, got nothing/);
});
