// HfTokenizer against Hugging Face's own Rust `tokenizers` (golden files written by
// tools/make_tokenizer_golden.py from the same tokenizer.json files and
// test/fixtures/tokenizer/corpus.json): ids exact, plain (split_special_tokens) and with special
// tokens parsed, BOS included where the post-processor adds it, and decode exact. For Llama 2
// (SentencePiece BPE with byte fallback) this is the independent check of the ▁ / byte-fallback
// handling (in the older normalizer form and the newer Metaspace form); also the SentencePiece
// byte table and streaming decode.
import test from 'ava';
import type { HfTokenizer } from '../../src/tokenizer/hf.js';
import { fixture, loadVariant, type Variant } from '../helpers/tokenizer-files.js';

interface Golden { generator: string; cases: Array<{ text: string; ids: number[]; ids_special: number[]; decoded: string }> }

const toks = new Map<Variant, HfTokenizer>();
const tokOf = (v: Variant): HfTokenizer => {
  let t = toks.get(v);
  if (!t) toks.set(v, (t = loadVariant(v)));
  return t;
};

const EXPECT_BOS: Record<Variant, number | null> = { llama2: 1, 'llama2-metaspace': 1, llama3: null, 'llama3-meta': 128000, qwen3: null };

for (const v of ['llama2', 'llama2-metaspace', 'llama3', 'llama3-meta', 'qwen3'] as Variant[]) {
  const g: Golden = fixture(`golden-${v}.json`);

  test(`${v}: ids and decode equal HF tokenizers (Rust) on ${g.cases.length} texts`, (t) => {
    const tok = tokOf(v);
    for (const c of g.cases) {
      t.deepEqual(tok.encode(c.text), c.ids, `plain ${JSON.stringify(c.text)}`);
      t.deepEqual(tok.encode(c.text, true), c.ids_special, `allowSpecial ${JSON.stringify(c.text)}`);
      t.is(tok.decode(c.ids), c.decoded, `decode ${JSON.stringify(c.text)}`);
    }
  });

  test(`${v}: bosId ${EXPECT_BOS[v]} is what encode() prepends, and addSpecial=false leaves it out`, (t) => {
    const tok = tokOf(v);
    t.is(tok.bosId, EXPECT_BOS[v]);
    const ids = tok.encode('Hello'), bare = tok.encode('Hello', false, false);
    t.deepEqual(ids, tok.bosId === null ? bare : [tok.bosId, ...bare]);
  });
}

test('llama2: SentencePiece pieces become bytes: ▁ is a space, <0xNN> is one byte', (t) => {
  const tok = tokOf('llama2');
  const hello = tok.tokenId('▁Hello')!;
  t.is(tok.tokenText(hello), ' Hello');
  t.deepEqual([...tok.tokenBytes(tok.tokenId('<0x0A>')!)], [0x0a]);
  t.deepEqual([...tok.tokenBytes(tok.tokenId('<0xF0>')!)], [0xf0]);
  t.is(tok.tokenText(1), '<s>');
});

test('llama2: decode drops the dummy-prefix space as HF does; streaming keeps it (a continuation)', (t) => {
  const tok = tokOf('llama2');
  const ids = tok.encode('Hello world', false, false);
  t.is(tok.decode(ids), 'Hello world');
  const d = tok.streamDecoder();
  t.is(ids.map((id) => d.push(id)).join('') + d.flush(), ' Hello world');
});

test('llama2: byte-fallback characters stream whole, never half', (t) => {
  const tok = tokOf('llama2');
  for (const x of ['🀄 mahjong 𠜎', '日本語のテキスト', 'Zoë ½ ™ 👨‍👩‍👧']) {
    const ids = tok.encode(x, false, false);
    const pieces = ids.map((id) => tok.tokenText(id));
    const d = tok.streamDecoder();
    const out = ids.map((id) => d.push(id));
    t.false(out.some((p) => p.includes('\uFFFD')), JSON.stringify(out));
    t.is(' ' + tok.decode(ids), out.join('') + d.flush());
    if (x.startsWith('🀄')) t.true(pieces.some((p) => p.includes('\uFFFD')), 'the emoji comes as byte-fallback tokens');
  }
});
