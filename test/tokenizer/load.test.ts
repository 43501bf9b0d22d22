// Which tokenizer a directory gets, BOS/EOS rules, stop ids from generation_config.json /
// config.json, and the named errors for broken files (file, what was expected, what was given).
import test from 'ava';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../../src/errors.js';
import { Gpt2Tokenizer } from '../../src/tokenizer/gpt2.js';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';
import { repoPath } from '../helpers/paths.js';
import { modelFilesDir, tokenizerConfig, tokenizerJson } from '../helpers/tokenizer-files.js';
import { tempDir } from '../helpers/temp.js';

const tmp = tempDir('tokload');
let n = 0;
function dir(files: Record<string, unknown>): string {
  const d = join(tmp, String(n++));
  mkdirSync(d);
  for (const [name, v] of Object.entries(files)) {
    if (typeof v === 'string' && v.startsWith('link:')) symlinkSync(v.slice(5), join(d, name));
    else writeFileSync(join(d, name), typeof v === 'string' ? v : JSON.stringify(v));
  }
  return d;
}
const L2 = modelFilesDir('llama2');

test('loadTokenizer: tokenizer.json → HfTokenizer; the shipped GPT-2 model → tiktoken GPT-2', (t) => {
  const hf = loadTokenizer(L2, 32000);
  t.true(hf instanceof HfTokenizer);
  t.is(hf.bosId, 1);
  t.deepEqual(hf.eosIds, [2]);
  const g = loadTokenizer(repoPath('models/kjv-gpt2-tiny'), 50257);
  t.true(g instanceof Gpt2Tokenizer);
  t.is(g.bosId, null);
  t.deepEqual(g.eosIds, [50256]);
  t.deepEqual(g.encode('Hello world'), [15496, 995]);
  t.true(g.isSpecial(50256));
  t.false(g.isSpecial(995));
  t.true(hf.isSpecial(1) && hf.isSpecial(2));
  t.false(hf.isSpecial(22557));
  g.free();
});

test('loadTokenizer refuses a tokenizer with ids past the model\'s vocab_size, and a non-GPT-2 dir without tokenizer.json', (t) => {
  const e = t.throws(() => loadTokenizer(L2, 31000), { instanceOf: TokenizerError });
  t.regex(e!.message, /tokenizer\.json: the tokenizer has 32000 token ids but the model's vocab_size is 31000/);
  t.notThrows(() => loadTokenizer(L2, 32064)); // padded embedding rows are fine (Qwen: 151669 → 151936)
  const llama = dir({ 'config.json': { model_type: 'llama' } });
  t.throws(() => loadTokenizer(llama), { instanceOf: TokenizerError, message: /tokenizer\.json: missing: a model_type "llama" model needs its tokenizer\.json/ });
  t.throws(() => loadTokenizer(dir({})), { instanceOf: TokenizerError, message: /expected tokenizer\.json, or config\.json of a GPT-2 model/ });
});

test('broken tokenizer.json files give named errors', (t) => {
  const good = tokenizerJson('llama2');
  const cases: Array<[unknown, RegExp]> = [
    ['{"model": ', /tokenizer\.json: expected JSON, got a parse error/],
    [[1, 2], /expected a JSON object, got \[1,2\]/],
    [{ ...good, model: { ...good.model, type: 'WordPiece' } }, /"model\.type": expected "BPE".*got "WordPiece"/],
    [{ ...good, model: { ...good.model, vocab: { a: -1 } } }, /"model\.vocab": expected a non-negative integer id for "a", got -1/],
    [{ ...good, model: { ...good.model, merges: [7] } }, /"model\.merges\[0\]": expected "a b" or \["a", "b"\], got 7/],
    [{ ...good, added_tokens: [{ id: 'x', content: '<s>' }] }, /"added_tokens\[0\]": expected \{"id": integer >= 0/],
    [{ ...good, decoder: { type: 'WordPiece' } }, /"decoder": expected ByteLevel, Metaspace or a Sequence.*got type "WordPiece"/],
    [{ ...good, decoder: null }, /"decoder": expected ByteLevel, Metaspace or a Sequence.*got null/],
    [{ ...good, post_processor: { type: 'BertProcessing' } }, /"post_processor\.type": expected TemplateProcessing, ByteLevel.*got "BertProcessing"/],
  ];
  for (const [json, re] of cases) {
    const d = dir({ 'tokenizer.json': typeof json === 'string' ? json : JSON.stringify(json) });
    const e = t.throws(() => loadTokenizer(d), { instanceOf: TokenizerError });
    t.true(e!.message.startsWith(join(d, 'tokenizer.json')), e!.message);
    t.regex(e!.message, re);
  }
  const badCfg = dir({ 'tokenizer.json': `link:${L2}/tokenizer.json`, 'tokenizer_config.json': { bos_token: 5 } });
  t.throws(() => loadTokenizer(badCfg), { instanceOf: TokenizerError, message: /tokenizer_config\.json: "bos_token": expected a string or \{"content": string\}, got 5/ });
  const unknownTok = dir({ 'tokenizer.json': `link:${L2}/tokenizer.json`, 'tokenizer_config.json': { eos_token: '<|nope|>' } });
  t.throws(() => loadTokenizer(unknownTok), { instanceOf: TokenizerError, message: /"eos_token": "<\|nope\|>" is not a token of/ });
});

test('bos/eos as AddedToken objects; LlamaTokenizerFast follows add_bos_token / add_eos_token like transformers', (t) => {
  const json = tokenizerJson('llama2');
  const obj = new HfTokenizer({ json, config: { bos_token: { content: '<s>', lstrip: false }, eos_token: { content: '</s>' } } });
  t.is(obj.bosId, 1); // from the post-processor
  t.deepEqual(obj.eosIds, [2]);
  const cls = { tokenizer_class: 'LlamaTokenizerFast', bos_token: '<s>', eos_token: '</s>' };
  t.is(new HfTokenizer({ json, config: { ...cls, add_bos_token: false } }).bosId, null);
  const both = new HfTokenizer({ json, config: { ...cls, add_eos_token: true } });
  t.deepEqual(both.encode('hi'), [1, ...both.encode('hi', false, false), 2]);
  // a byte-level file without a template (the @lenml Llama 3 one) gets BOS from that class too
  const l3 = new HfTokenizer({ json: tokenizerJson('llama3'), config: { ...tokenizerConfig('llama3'), tokenizer_class: 'LlamaTokenizerFast' } });
  t.is(l3.bosId, 128000);
  t.is(l3.encode('hi')[0], 128000);
});

test('a special token that would be one whole pre-token under ignore_merges stays plain text', (t) => {
  // Llama 3 uses ignore_merges: a pre-token found whole in the model's token map is taken as is.
  // "Zqxjvw" is one pre-token; as a special added token the plain encoder must not know it.
  const json = tokenizerJson('llama3');
  const bare = new HfTokenizer({ json: tokenizerJson('llama3'), config: {} }).encode('Zqxjvw');
  json.added_tokens.push({ id: 128256, content: 'Zqxjvw', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false });
  const tok = new HfTokenizer({ json, config: {} });
  t.deepEqual(tok.encode('Zqxjvw', true), [128256]);
  t.deepEqual(tok.encode('Zqxjvw'), bare);
  t.true(bare.length > 1);
});

test('ids past the tokenizer\'s vocabulary (model padding rows) decode to nothing', (t) => {
  const tok = loadTokenizer(L2);
  t.is(tok.tokenText(40000), '');
  t.is(tok.decode([22557, 40000, 1526]), 'Hello world');
});
