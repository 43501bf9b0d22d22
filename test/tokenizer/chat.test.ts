// Chat templates rendered with @huggingface/jinja against Python Jinja2 rendering them the way
// transformers does (test/fixtures/chat/*.json, written by tools/make_chat_golden.py): the real
// Llama 3 and Qwen3 templates, and Llama 2 chat / Llama 3.2 (strftime_now, date_string) copied
// from meta-llama's files. Rendered text must be identical, and its ids identical to HF's Rust
// tokenizers with add_special_tokens=False and special tokens parsed.
import test from 'ava';
import { ChatTemplateError } from '../../src/errors.js';
import { applyChatTemplate, containsSpecialToken, renderChatTemplate, strftime } from '../../src/tokenizer/chat.js';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { repoPath } from '../helpers/paths.js';
import { loadVariant, readJson, tokenizerConfig, tokenizerJson, type RealModel } from '../helpers/tokenizer-files.js';

interface ChatGolden {
  template: string; tokenizer: RealModel; bos_token: string | null; eos_token: string | null; now: string;
  cases: Array<{ conversation: string; messages: any[]; add_generation_prompt: boolean; vars: Record<string, unknown>; text: string; ids: number[] }>;
}
const golden = (name: string): ChatGolden => readJson(repoPath(`test/fixtures/chat/${name}.json`));
// the Python side's fixed clock, 2024-07-26 09:30 local time
const NOW = new Date(2024, 6, 26, 9, 30);

const toks = new Map<RealModel, HfTokenizer>();
const tokOf = (m: RealModel): HfTokenizer => {
  let t = toks.get(m);
  if (!t) toks.set(m, (t = loadVariant(m)));
  return t;
};

for (const name of ['llama3', 'qwen3', 'llama2-chat', 'llama3.2']) {
  test(`${name}: rendered text and ids equal Jinja2 + HF tokenizers`, (t) => {
    const g = golden(name);
    const tok = tokOf(g.tokenizer);
    t.true(g.cases.length >= 12);
    for (const c of g.cases) {
      const what = `${c.conversation}, add_generation_prompt ${c.add_generation_prompt}, ${JSON.stringify(c.vars)}`;
      const text = renderChatTemplate(g.template, c.messages, { bos_token: g.bos_token, eos_token: g.eos_token },
        { addGenerationPrompt: c.add_generation_prompt, now: NOW, vars: c.vars });
      t.is(text, c.text, what);
      t.deepEqual(tok.encode(text, true, false), c.ids, what);
    }
  });
}

test('applyChatTemplate uses tokenizer_config\'s template and tokens, and adds no second BOS', (t) => {
  for (const name of ['llama3', 'qwen3'] as const) {
    const g = golden(name);
    const tok = tokOf(name);
    for (const c of g.cases.filter((x) => Object.keys(x.vars).length === 0)) {
      const r = applyChatTemplate(tok, c.messages, { addGenerationPrompt: c.add_generation_prompt, now: NOW });
      t.is(r.text, c.text);
      t.deepEqual(r.ids, c.ids);
    }
  }
  // Llama 3's template writes <|begin_of_text|> itself: exactly one, even where encode() adds one
  const meta = loadVariant('llama3-meta');
  t.is(meta.bosId, 128000);
  const r = applyChatTemplate(meta, [{ role: 'user', content: 'hi' }]);
  t.is(r.ids[0], 128000);
  t.is(r.ids.filter((x) => x === 128000).length, 1);
});

test('special-token strings in message content are parsed as special, as HF and vLLM do', (t) => {
  const tok = tokOf('llama3');
  const r = applyChatTemplate(tok, [{ role: 'user', content: 'a <|eot_id|> b' }]);
  t.is(r.ids.filter((x) => x === 128009).length, 2); // the one in content and the one closing the turn
  t.is(containsSpecialToken(tok, 'a <|eot_id|> b'), '<|eot_id|>');
  t.is(containsSpecialToken(tok, 'plain <|eot_id| text'), null);
});

test('a model without a chat template, a template that raises, bad messages: named errors', (t) => {
  const noTemplate = new HfTokenizer({ json: tokenizerJson('llama2'), config: tokenizerConfig('llama2') });
  const e1 = t.throws(() => applyChatTemplate(noTemplate, [{ role: 'user', content: 'hi' }]), { instanceOf: ChatTemplateError });
  t.regex(e1!.message, /no chat template.*chat_template/);
  const l2 = golden('llama2-chat');
  const e2 = t.throws(() => renderChatTemplate(l2.template, [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }],
    { bos_token: '<s>', eos_token: '</s>' }), { instanceOf: ChatTemplateError });
  t.regex(e2!.message, /raised: Conversation roles must alternate/);
  t.throws(() => applyChatTemplate(tokOf('qwen3'), []), { instanceOf: ChatTemplateError, message: /non-empty array/ });
  t.throws(() => applyChatTemplate(tokOf('qwen3'), [{ role: 'user' }]), { instanceOf: ChatTemplateError, message: /messages\[0\]\.content: expected a string, got nothing/ });
  t.throws(() => renderChatTemplate('{% if %}', [{ role: 'user', content: 'x' }], { bos_token: null, eos_token: null }),
    { instanceOf: ChatTemplateError, message: /does not parse/ });
});

test('strftime matches Python\'s C-locale codes; date_string overrides the clock', (t) => {
  t.is(strftime(NOW, '%d %b %Y'), '26 Jul 2024');
  t.is(strftime(new Date(2026, 0, 5, 7, 8, 9), '%A %a %B %m/%d/%y %H:%M:%S %%'), 'Monday Mon January 01/05/26 07:08:09 %');
  const g = golden('llama3.2');
  const c = g.cases.find((x) => x.vars.date_string === '02 Dec 2026')!;
  t.true(c.text.includes('Today Date: 02 Dec 2026'));
});
