// Model hyper-parameters read from a Hugging Face config.json, for every supported family. What
// differs between families is data here (norm, positions, MLP, biases, head), read by one
// forward pass (forward.ts) and one size table (param-layout.ts) — never branches per family.
//
// Legend: L = layers, C = hidden width, NH = query heads, NKV = key/value heads, D = head width,
// I = MLP width, P = context length, V = vocabulary.
import { readFileSync } from 'node:fs';
import { CheckpointError } from '../errors.js';
import { parseFamily, type Family } from './families.js';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number };

export interface ModelConfig {
  family: Family;       // 'gpt2' | 'llama' | 'mistral' | 'qwen2' | 'qwen3'
  nLayer: number;       // L
  nHead: number;        // NH
  nKvHead: number;      // NKV (= NH without grouped-query attention)
  headDim: number;      // D (C / NH unless config.json says otherwise)
  nEmbd: number;        // C
  nPositions: number;   // P, the context length
  vocabSize: number;    // V
  nInner: number;       // I, MLP width
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  positions: 'learned' | 'rope';
  ropeTheta: number;    // rope only
  ropeScaling: RopeScaling | null;
  mlp: 'gelu' | 'swiglu';  // gelu: fc → tanh-GELU → proj; swiglu: down(silu(gate) · up)
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  qkNorm: boolean;      // Qwen3: RMSNorm of each q and k head before RoPE
  tied: boolean;        // LM head = token embedding
  window: number;       // sliding-window attention span (Mistral), 0 = none
  bosTokenId: number | null;
  eosTokenId: number;   // the first end-of-sequence id (the one `ignore_eos` and stop rules know)
  eosTokenIds: number[]; // every id that ends a sequence (config.json, or generation_config.json)
}

/** q | k | v widths of one fused row: [NH·D, NKV·D, NKV·D]. */
export function qkvDims(c: ModelConfig): { q: number; kv: number; width: number } {
  const q = c.nHead * c.headDim, kv = c.nKvHead * c.headDim;
  return { q, kv, width: q + 2 * kv };
}

/** Known GPT-2 shapes (nanoGPT from_pretrained table); all have V = 50257, P = 1024. */
export const PRESETS: Record<string, Pick<ModelConfig, 'nLayer' | 'nHead' | 'nEmbd'>> = {
  distilgpt2: { nLayer: 6, nHead: 12, nEmbd: 768 },     // 82M params
  gpt2: { nLayer: 12, nHead: 12, nEmbd: 768 },          // 124M params
  'gpt2-medium': { nLayer: 24, nHead: 16, nEmbd: 1024 }, // 350M params
  'gpt2-large': { nLayer: 36, nHead: 20, nEmbd: 1280 },  // 774M params
  'gpt2-xl': { nLayer: 48, nHead: 25, nEmbd: 1600 },     // 1558M params
};

export function presetName(c: ModelConfig): string | null {
  if (c.family !== 'gpt2' || c.vocabSize !== 50257 || c.nPositions !== 1024 || c.nInner !== 4 * c.nEmbd) return null;
  for (const [name, p] of Object.entries(PRESETS)) {
    if (p.nLayer === c.nLayer && p.nHead === c.nHead && p.nEmbd === c.nEmbd) return name;
  }
  return null;
}

/** Validates a parsed config.json object. `file` is only used in messages. */
export function parseModelConfig(raw: unknown, file: string): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CheckpointError(file, `expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  return parseFamily(raw as Record<string, unknown>, file);
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (text.length > 1 << 20) throw new CheckpointError(file, `${what} is ${text.length} bytes; a model config is at most 1 MiB`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `invalid JSON: ${(e as Error).message}`);
  }
}

/** config.json, with the end-of-sequence ids of generation_config.json beside it when there is one. */
export function readModelConfig(file: string): ModelConfig {
  const c = parseModelConfig(readJson(file, 'config.json'), file);
  const gen = file.replace(/config\.json$/, 'generation_config.json');
  if (gen === file) return c;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(gen, 'utf8'));
  } catch {
    return c; // optional file
  }
  const eos = (raw as Record<string, unknown> | null)?.eos_token_id;
  const ids = typeof eos === 'number' ? [eos] : Array.isArray(eos) ? eos : null;
  if (ids === null) return c;
  if (ids.length === 0 || !ids.every((t) => Number.isInteger(t) && t >= 0 && t < c.vocabSize)) {
    throw new CheckpointError(gen, `eos_token_id must be a token id or a list of ids in [0, ${c.vocabSize - 1}], got ${JSON.stringify(eos)}`);
  }
  return { ...c, eosTokenId: ids[0], eosTokenIds: ids };
}

/** Parameter count of the model (a tied head counted once). */
export function parameterCount(c: ModelConfig): number {
  const { nEmbd: C, nInner: I, vocabSize: V, nPositions: P } = c;
  const { q, width } = qkvDims(c);
  const normParams = c.norm === 'layernorm' ? 2 * C : C;
  const attn = C * width + (c.qkvBias ? width : 0) + q * C + (c.oBias ? C : 0) + (c.qkNorm ? 2 * c.headDim : 0);
  const up = c.mlp === 'swiglu' ? 2 * I : I;
  const mlp = C * up + I * C + (c.mlpBias ? up + C : 0);
  const perLayer = 2 * normParams + attn + mlp;
  return V * C + (c.positions === 'learned' ? P * C : 0) + c.nLayer * perLayer + normParams + (c.tied ? 0 : V * C);
}
