// HfTokenizer (@huggingface/tokenizers) against an independent encoder, tiktoken's Rust core over
// the same vocabulary (test/helpers/tiktoken-ref.ts), for the byte-level BPE tokenizers of
// Llama 3 and Qwen3: identical ids (tolerance: none) on a varied corpus and 300 seeded random
// strings, special-token strings plain without allowSpecial and special with it, round trips,
// and streaming decode equal to whole decode at every prefix.
import test from 'ava';
import type { HfTokenizer } from '../../src/tokenizer/hf.js';
import { refEncode, tiktokenFromTokenizerJson, type TiktokenRef } from '../helpers/tiktoken-ref.js';
import { fixture, loadVariant, tokenizerJson, type RealModel } from '../helpers/tokenizer-files.js';

const CORPUS: string[] = fixture('corpus.json');

// seeded random strings over pieces that stress the pre-tokenizer regex and byte merges
function randomStrings(n: number, seed: number): string[] {
  const pool = [
    'a', 'Z', 'the', ' ', '  ', '\n', '\r\n', '\t', '0', '7', '12', '3456', '.', ',', "'s", "'LL", '!', '?', '-',
    '(', '}', '_', '@', '#', '<|', '|>', '<|eot_id|>', '<|im_end|>', '<|endoftext|>', '<think>', 'é', 'e\u0301',
    'ß', 'Ж', '中', '文', 'の', '한', '😀', '👍🏽', '‍', '🇫', '\u00a0', '\u3000', 'ﬁ', '𝔘', '\u0000', '\u200b',
  ];
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rnd() * 24);
    let t = '';
    for (let k = 0; k < len; k++) t += pool[Math.floor(rnd() * pool.length)];
    out.push(t);
  }
  return out;
}

const EXTRA = [
  '<|eot_id|>', '<|im_end|>', 'x<|eot_id|>y', '<|begin_of_text|><|begin_of_text|>', '<|reserved_special_token_5|>',
  '1', '12', '123', '1234', '12345678901', '  \n  \n', '\n\n\n\n', ' \t ', '😀😀😀', '🙂'.repeat(7), 'é'.repeat(33),
];

const models: RealModel[] = ['llama3', 'qwen3'];
const setups = new Map<RealModel, { tok: HfTokenizer; ref: TiktokenRef }>();
const setup = (m: RealModel) => {
  let s = setups.get(m);
  if (!s) setups.set(m, (s = { tok: loadVariant(m), ref: tiktokenFromTokenizerJson(tokenizerJson(m)) }));
  return s;
};
test.after(() => { for (const s of setups.values()) s.ref.enc.free(); });

for (const m of models) {
  const texts = [...CORPUS, ...EXTRA, ...randomStrings(300, m === 'llama3' ? 1 : 2)];

  test(`${m}: encode equals tiktoken on ${texts.length} texts, plain and with allowSpecial`, (t) => {
    const { tok, ref } = setup(m);
    for (const x of texts) {
      t.deepEqual(tok.encode(x, false, false), refEncode(ref, x, false), `plain ${JSON.stringify(x)}`);
      t.deepEqual(tok.encode(x, true, false), refEncode(ref, x, true), `allowSpecial ${JSON.stringify(x)}`);
    }
  });

  test(`${m}: decode(encode(x)) is x (NFC for Qwen's normalizer); tokenBytes agree with tiktoken`, (t) => {
    const { tok, ref } = setup(m);
    for (const x of texts) {
      t.is(tok.decode(tok.encode(x)), ref.normalize(x), JSON.stringify(x));
      t.is(tok.decode(tok.encode(x, true)), ref.normalize(x), JSON.stringify(x));
    }
    for (let id = 0; id < tok.vocabSize; id += 97) {
      t.deepEqual(Buffer.from(tok.tokenBytes(id)), Buffer.from(ref.enc.decode_single_token_bytes(id)), `id ${id}`);
    }
  });

  test(`${m}: special-token strings are text unless allowSpecial`, (t) => {
    const { tok } = setup(m);
    const name = m === 'llama3' ? '<|eot_id|>' : '<|im_end|>';
    const id = tok.tokenId(name)!;
    t.is(id, m === 'llama3' ? 128009 : 151645);
    t.false(tok.encode(`say ${name} now`).includes(id));
    t.true(tok.encode(`say ${name} now`, true).includes(id));
    t.true(tok.encode(`say ${name} now`).length > tok.encode(`say ${name} now`, true).length);
    t.deepEqual(tok.encode(name, true, false), [id]);
  });

  test(`${m}: streamed decode equals whole decode at every prefix`, (t) => {
    const { tok } = setup(m);
    const split = [...texts].filter((x) => /[^\x00-\x7f]/.test(x));
    let cut = 0;
    for (const x of split) {
      const ids = tok.encode(x, false, false);
      const d = tok.streamDecoder();
      let streamed = '';
      for (let k = 0; k < ids.length; k++) {
        streamed += d.push(ids[k]);
        t.false(streamed.includes('\uFFFD'), JSON.stringify(x));
        const whole = tok.decode(ids.slice(0, k + 1));
        // what is held back is exactly an incomplete character at the end of the prefix
        const held = whole.endsWith('\uFFFD') ? whole.slice(0, -1) : whole;
        t.is(streamed, held, `${JSON.stringify(x)} prefix ${k + 1}`);
        if (held !== whole) cut++;
      }
      t.is(streamed + d.flush(), tok.decode(ids));
    }
    t.true(cut > 20, `multi-byte characters split across tokens: ${cut}`);
  });
}
