// Reads the golden files written by tools/make_golden.py (numpy, float64; shares no code with src/).
import { readFileSync } from 'node:fs';
import { ckptDir } from './paths.js';

export interface Golden {
  magic: string;
  version: number;
  prompt_ids: number[];
  logits: number[][];
  greedy: { prompt_ids: number[]; max_tokens: number; ids: number[]; min_margin: number };
  score: { ids: number[]; window: number; stride: number; token_logprobs: number[]; mean_nll: number; n_scored: number };
}

export function readGolden(name: string): Golden {
  const g = JSON.parse(readFileSync(`${ckptDir(name)}/golden.json`, 'utf8')) as Golden;
  if (g.magic !== 'pipegpt-golden' || g.version !== 1) {
    throw new Error(`${name}/golden.json: magic ${g.magic} version ${g.version}; HINT: re-run /usr/bin/python3 tools/make_golden.py`);
  }
  return g;
}
