// Tokenizer table {text, ids}: ids of GPT-2's BPE (the first two from transformers.js's
// test_tokenization_gpt2.js), prompt text holding "<|endoftext|>", and characters whose UTF-8
// bytes are split across tokens.
import test from 'ava';
import { EOT, Gpt2Tokenizer } from '../../src/tokenizer/gpt2.js';

const tok = new Gpt2Tokenizer();
test.after(() => tok.free());

const TABLE: Array<{ text: string; ids: number[] }> = [
  { text: 'How are you doing?', ids: [2437, 389, 345, 1804, 30] },
  { text: 'The company was founded in 2016.', ids: [464, 1664, 373, 9393, 287, 1584, 13] },
  { text: 'Hello world', ids: [15496, 995] },
  // untrusted prompt text: the special-token string is ordinary characters
  { text: 'a <|endoftext|> b', ids: [64, 1279, 91, 437, 1659, 5239, 91, 29, 275] },
  // multi-byte characters split across tokens
  { text: ' 😀', ids: [30325, 222] },
  { text: 'naïve café', ids: [2616, 38776, 40304] },
  { text: '日本語', ids: [33768, 98, 17312, 105, 45739, 252] },
];

for (const { text, ids } of TABLE) {
  test(`encodes and decodes ${JSON.stringify(text)}`, (t) => {
    t.deepEqual(tok.encode(text), ids);
    t.is(tok.decode(ids), text);
  });
}

test('"<|endoftext|>" becomes the special token only when asked for', (t) => {
  t.deepEqual(tok.encode('a <|endoftext|> b', true), [64, 220, EOT, 275]);
  t.false(tok.encode('<|endoftext|>').includes(EOT));
});

test('streamed decoding never emits half of a multi-byte character', (t) => {
  for (const { text, ids } of TABLE) {
    const d = tok.streamDecoder();
    const pieces = ids.map((id) => d.push(id));
    pieces.push(d.flush());
    t.false(pieces.some((p) => p.includes('\uFFFD')), `${text}: ${JSON.stringify(pieces)}`);
    t.is(pieces.join(''), text);
  }
  // the emoji's 4 bytes are split 3 + 1 over two tokens: nothing comes out until the last byte
  const d = tok.streamDecoder();
  t.is(d.push(30325), ' ');
  t.is(d.push(222), '😀');
});

test('a sequence cut inside a character flushes a replacement character, not garbage', (t) => {
  const d = tok.streamDecoder();
  t.is(d.push(30325), ' ');
  t.is(d.flush(), '\uFFFD');
});
