// Which tokenizer a model directory gets. (The ids that end a generation come from config.json /
// generation_config.json: model/config.ts readModelConfig, plus the tokenizer's own eosIds.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../errors.js';
import { Gpt2Tokenizer } from './gpt2.js';
import { HfTokenizer } from './hf.js';
import { readJsonFile } from './hf-json.js';
import type { Tokenizer } from './types.js';

/**
 * tokenizer.json present → HfTokenizer; else a GPT-2 directory (config.json model_type "gpt2",
 * like the shipped models/kjv-gpt2-tiny, which has no tokenizer.json) → tiktoken's GPT-2.
 * vocabSize is the model's (config.json vocab_size): every id the tokenizer can produce must
 * have an embedding row. It may be larger (Qwen pads 151669 tokens to 151936 rows).
 * The caller owns the result and frees it. Reads no weights.
 */
export function loadTokenizer(modelDir: string, vocabSize?: number): Tokenizer {
  const tj = join(modelDir, 'tokenizer.json');
  let tok: Tokenizer;
  if (existsSync(tj)) {
    tok = HfTokenizer.fromDir(modelDir);
  } else {
    const cfgFile = join(modelDir, 'config.json');
    if (!existsSync(cfgFile)) {
      throw new TokenizerError(modelDir, 'expected tokenizer.json, or config.json of a GPT-2 model (model_type "gpt2"); found neither');
    }
    const cfg = readJsonFile(cfgFile) as Record<string, unknown> | null;
    const type = cfg && typeof cfg === 'object' ? cfg.model_type : undefined;
    if (type !== 'gpt2') {
      throw new TokenizerError(tj, `missing: a model_type ${JSON.stringify(type)} model needs its tokenizer.json (only "gpt2" models fall back to tiktoken's GPT-2 vocabulary)`);
    }
    tok = new Gpt2Tokenizer();
  }
  if (vocabSize !== undefined && tok.vocabSize > vocabSize) {
    const n = tok.vocabSize;
    tok.free();
    throw new TokenizerError(existsSync(tj) ? tj : modelDir, `the tokenizer has ${n} token ids but the model's vocab_size is ${vocabSize}: ids ${vocabSize}..${n - 1} would have no embedding row`);
  }
  return tok;
}
