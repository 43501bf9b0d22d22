// GPT-2 hyper-parameters read from a Hugging Face config.json, plus the known presets.
import { readFileSync } from 'node:fs';
import { CheckpointError } from '../errors.js';

export interface ModelConfig {
  nLayer: number;     // L
  nHead: number;      // NH
  nEmbd: number;      // C
  nPositions: number; // P, the context length
  vocabSize: number;  // V
  nInner: number;     // I, MLP width (4·C when config.json says null)
  layerNormEps: number;
  activation: 'gelu_new';
  bosTokenId: number;
  eosTokenId: number;
}

/** Known GPT-2 shapes (nanoGPT from_pretrained table); all have V = 50257, P = 1024. */
export const PRESETS: Record<string, Pick<ModelConfig, 'nLayer' | 'nHead' | 'nEmbd'>> = {
  distilgpt2: { nLayer: 6, nHead: 12, nEmbd: 768 },     // 82M params
  gpt2: { nLayer: 12, nHead: 12, nEmbd: 768 },          // 124M params
  'gpt2-medium': { nLayer: 24, nHead: 16, nEmbd: 1024 }, // 350M params
  'gpt2-large': { nLayer: 36, nHead: 20, nEmbd: 1280 },  // 774M params
  'gpt2-xl': { nLayer: 48, nHead: 25, nEmbd: 1600 },     // 1558M params
};

/** The tanh-approximation GELU names used by GPT-2 checkpoints (all the same function). */
const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']);

export function presetName(c: ModelConfig): string | null {
  if (c.vocabSize !== 50257 || c.nPositions !== 1024 || c.nInner !== 4 * c.nEmbd) return null;
  for (const [name, p] of Object.entries(PRESETS)) {
    if (p.nLayer === c.nLayer && p.nHead === c.nHead && p.nEmbd === c.nEmbd) return name;
  }
  return null;
}

function intField(file: string, raw: Record<string, unknown>, keys: string[], min: number): number {
  const key = keys.find((k) => raw[k] !== undefined && raw[k] !== null);
  if (key === undefined) {
    throw new CheckpointError(file, `missing config field "${keys[0]}" (expected an integer ≥ ${min})`);
  }
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new CheckpointError(file, `config field "${key}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates a parsed config.json object. `file` is only used in messages. */
export function parseModelConfig(raw: unknown, file: string): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CheckpointError(file, `expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const r = raw as Record<string, unknown>;
  const nLayer = intField(file, r, ['n_layer'], 1);
  const nHead = intField(file, r, ['n_head'], 1);
  const nEmbd = intField(file, r, ['n_embd'], 1);
  const nPositions = intField(file, r, ['n_positions', 'n_ctx'], 1);
  const vocabSize = intField(file, r, ['vocab_size'], 1);
  if (nEmbd % nHead !== 0) {
    throw new CheckpointError(file, `n_embd (${nEmbd}) must be divisible by n_head (${nHead})`);
  }
  const nInner = r.n_inner === undefined || r.n_inner === null ? 4 * nEmbd : intField(file, r, ['n_inner'], 1);
  const eps = r.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) {
    throw new CheckpointError(file, `config field "layer_norm_epsilon" must be a positive number, got ${JSON.stringify(eps)}`);
  }
  const act = r.activation_function ?? 'gelu_new';
  if (typeof act !== 'string' || !TANH_GELU.has(act)) {
    throw new CheckpointError(file, `config field "activation_function" must be one of ${[...TANH_GELU].join(', ')}, got ${JSON.stringify(act)}`);
  }
  if (r.tie_word_embeddings === false) {
    throw new CheckpointError(file, 'config field "tie_word_embeddings" is false; pipegpt needs GPT-2\'s tied LM head (true)');
  }
  const eos = typeof r.eos_token_id === 'number' ? r.eos_token_id : vocabSize - 1;
  const bos = typeof r.bos_token_id === 'number' ? r.bos_token_id : eos;
  return {
    nLayer, nHead, nEmbd, nPositions, vocabSize, nInner,
    layerNormEps: eps, activation: 'gelu_new', bosTokenId: bos, eosTokenId: eos,
  };
}

export function readModelConfig(file: string): ModelConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `cannot read config.json (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `invalid JSON: ${(e as Error).message}`);
  }
  return parseModelConfig(raw, file);
}

/** Parameter count of the model (tied head counted once). */
export function parameterCount(c: ModelConfig): number {
  const { nEmbd: C, nInner: I, vocabSize: V, nPositions: P } = c;
  const perLayer = 2 * C + C * 3 * C + 3 * C + C * C + C + 2 * C + C * I + I + I * C + C;
  return V * C + P * C + c.nLayer * perLayer + 2 * C;
}
