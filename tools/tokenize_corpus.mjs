#!/usr/bin/env node
// GPT-2 BPE tokenizer helper for tools/train_demo.py.
//
//   node tools/tokenize_corpus.mjs <input.txt|-> <output.bin>
//       Encode text (file, or stdin when "-") with the GPT-2 BPE and write the
//       token ids as uint16 little-endian to output.bin.
//   node tools/tokenize_corpus.mjs --decode <input.bin|->
//       Decode uint16 little-endian token ids and print the text to stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { get_encoding } from 'tiktoken';

function readInput(path) {
  return path === '-' || path === undefined ? readFileSync(0) : readFileSync(path);
}

const args = process.argv.slice(2);
const enc = get_encoding('gpt2');
try {
  if (args[0] === '--decode') {
    const buf = readInput(args[1]);
    const ids = new Uint32Array(buf.length >> 1);
    for (let i = 0; i < ids.length; i++) ids[i] = buf.readUInt16LE(2 * i);
    process.stdout.write(Buffer.from(enc.decode(ids)));
  } else {
    if (args.length !== 2) {
      console.error('usage: tokenize_corpus.mjs <input.txt|-> <output.bin> | --decode <input.bin|->');
      process.exit(2);
    }
    const text = readInput(args[0]).toString('utf8');
    const ids = enc.encode(text, [], []);
    const out = Buffer.alloc(ids.length * 2);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] > 0xffff) throw new Error(`token id ${ids[i]} does not fit in uint16`);
      out.writeUInt16LE(ids[i], 2 * i);
    }
    writeFileSync(args[1], out);
    console.error(`tokenize_corpus: ${text.length} chars -> ${ids.length} tokens -> ${args[1]}`);
  }
} finally {
  enc.free();
}
