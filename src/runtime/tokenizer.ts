// The tokenizer an engine uses for a model directory: its tokenizer.json (HfTokenizer); for a
// GPT-2 checkpoint without one (the shipped model, old HF GPT-2 directories) tiktoken's GPT-2
// encoding, shared by every engine in this thread (tiktoken's WASM memory is not collected);
// another family without one runs on token ids only (IdsOnlyTokenizer).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../model/config.js';
import { sharedTokenizer } from '../tokenizer/gpt2.js';
import { IdsOnlyTokenizer } from '../tokenizer/ids-only.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { Tokenizer } from '../tokenizer/types.js';

export function engineTokenizer(modelDir: string, c: ModelConfig): Tokenizer {
  if (existsSync(join(modelDir, 'tokenizer.json'))) return loadTokenizer(modelDir, c.vocabSize);
  return c.family === 'gpt2' ? sharedTokenizer() : new IdsOnlyTokenizer(c.vocabSize, modelDir);
}
