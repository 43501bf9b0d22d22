// The supported model families, chosen by config.json's `model_type` (or `architectures`), and
// how each one's config.json keys map onto ModelConfig. Everything a family changes is a field
// of ModelConfig; anything this file does not know is refused at load, naming the file, the key,
// the value and what is supported.
import { CheckpointError } from '../errors.js';
import type { ModelConfig, RopeScaling } from './config.js';

export const FAMILIES = ['gpt2', 'llama', 'mistral', 'qwen2', 'qwen3'] as const;
export type Family = (typeof FAMILIES)[number];

const ARCHITECTURES: Record<string, Family> = {
  GPT2LMHeadModel: 'gpt2', LlamaForCausalLM: 'llama', MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2', Qwen3ForCausalLM: 'qwen3',
};

/** Sizes beyond these are refused before anything is allocated (a hostile config.json cannot ask for 10^12 layers). */
const LIMITS = { layers: 1024, width: 1 << 16, heads: 1024, headDim: 1024, inner: 1 << 18, positions: 1 << 20, vocab: 1 << 21 };

/** The tanh-approximation GELU names used by GPT-2 checkpoints (all the same function). */
const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']);

type Raw = Record<string, unknown>;

class Reader {
  constructor(private readonly r: Raw, readonly file: string) {}
  fail(detail: string): never {
    throw new CheckpointError(this.file, detail);
  }
  has(key: string): boolean {
    return this.r[key] !== undefined && this.r[key] !== null;
  }
  int(keys: string[], min: number, max: number, def?: number): number {
    const key = keys.find((k) => this.has(k));
    if (key === undefined) {
      if (def !== undefined) return def;
      this.fail(`missing config field "${keys[0]}" (expected an integer in [${min}, ${max}])`);
    }
    const v = this.r[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`config field "${key}" must be an integer in [${min}, ${max}], got ${show(v)}`);
    }
    return v;
  }
  positive(key: string, def: number): number {
    const v = this.r[key] ?? def;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) this.fail(`config field "${key}" must be a positive number, got ${show(v)}`);
    return v;
  }
  bool(key: string, def: boolean): boolean {
    const v = this.r[key] ?? def;
    if (typeof v !== 'boolean') this.fail(`config field "${key}" must be true or false, got ${show(v)}`);
    return v;
  }
  oneOf(key: string, allowed: readonly string[], def: string, what = allowed.join(', ')): string {
    const v = this.r[key] ?? def;
    if (typeof v !== 'string' || !allowed.includes(v)) this.fail(`config field "${key}" must be one of ${what}, got ${show(v)}`);
    return v;
  }
  tokenIds(key: string, vocab: number): number[] | null {
    const v = this.r[key];
    if (v === undefined || v === null) return null;
    const ids = Array.isArray(v) ? v : [v];
    if (ids.length === 0 || !ids.every((t) => Number.isInteger(t) && t >= 0 && t < vocab)) {
      this.fail(`config field "${key}" must be a token id or a list of ids in [0, ${vocab - 1}], got ${show(v)}`);
    }
    return ids as number[];
  }
  get raw(): Raw { return this.r; }
}

/** A value as it appears in a message, cut so a huge or binary value cannot flood the terminal. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}… (${s.length} characters)` : s;
}

function familyOf(rd: Reader): Family {
  const mt = rd.raw.model_type;
  if (mt === undefined) {
    const arch = Array.isArray(rd.raw.architectures) ? rd.raw.architectures.find((a) => typeof a === 'string' && a in ARCHITECTURES) : undefined;
    return arch ? ARCHITECTURES[arch as string] : 'gpt2'; // old GPT-2 configs carry neither
  }
  if (typeof mt !== 'string' || !(FAMILIES as readonly string[]).includes(mt)) {
    rd.fail(`model_type ${show(mt)} is not supported (supported: ${FAMILIES.join(', ')})`);
  }
  return mt as Family;
}

export function parseFamily(raw: Raw, file: string): ModelConfig {
  const rd = new Reader(raw, file);
  const family = familyOf(rd);
  return family === 'gpt2' ? gpt2(rd) : llama(rd, family);
}

function gpt2(rd: Reader): ModelConfig {
  const nLayer = rd.int(['n_layer'], 1, LIMITS.layers), nHead = rd.int(['n_head'], 1, LIMITS.heads);
  const nEmbd = rd.int(['n_embd'], 1, LIMITS.width), nPositions = rd.int(['n_positions', 'n_ctx'], 1, LIMITS.positions);
  const vocabSize = rd.int(['vocab_size'], 1, LIMITS.vocab);
  if (nEmbd % nHead !== 0) rd.fail(`n_embd (${nEmbd}) must be divisible by n_head (${nHead})`);
  const nInner = rd.int(['n_inner'], 1, LIMITS.inner, 4 * nEmbd);
  const eps = rd.positive('layer_norm_epsilon', 1e-5);
  rd.oneOf('activation_function', [...TANH_GELU], 'gelu_new');
  if (rd.raw.tie_word_embeddings === false) rd.fail('config field "tie_word_embeddings" is false; a GPT-2 checkpoint has a tied LM head (true)');
  const eos = rd.tokenIds('eos_token_id', vocabSize)?.[0] ?? vocabSize - 1;
  const bos = rd.tokenIds('bos_token_id', vocabSize)?.[0] ?? eos;
  return {
    family: 'gpt2', nLayer, nHead, nKvHead: nHead, headDim: nEmbd / nHead, nEmbd, nPositions, vocabSize, nInner,
    norm: 'layernorm', normEps: eps, positions: 'learned', ropeTheta: 0, ropeScaling: null, mlp: 'gelu',
    qkvBias: true, oBias: true, mlpBias: true, qkNorm: false, tied: true, window: 0,
    bosTokenId: bos, eosTokenId: eos, eosTokenIds: [eos],
  };
}

/** Llama 2/3/3.1/3.2, TinyLlama, SmolLM2 (llama), Mistral, Qwen2/2.5, Qwen3: HF's Llama layout. */
function llama(rd: Reader, family: Family): ModelConfig {
  const nLayer = rd.int(['num_hidden_layers'], 1, LIMITS.layers), nHead = rd.int(['num_attention_heads'], 1, LIMITS.heads);
  const nEmbd = rd.int(['hidden_size'], 1, LIMITS.width), nPositions = rd.int(['max_position_embeddings'], 1, LIMITS.positions);
  const vocabSize = rd.int(['vocab_size'], 1, LIMITS.vocab), nInner = rd.int(['intermediate_size'], 1, LIMITS.inner);
  const nKvHead = rd.int(['num_key_value_heads'], 1, nHead, nHead);
  if (nHead % nKvHead !== 0) rd.fail(`num_attention_heads (${nHead}) must be a multiple of num_key_value_heads (${nKvHead})`);
  if (!rd.has('head_dim') && nEmbd % nHead !== 0) rd.fail(`hidden_size (${nEmbd}) must be divisible by num_attention_heads (${nHead}) when head_dim is not given`);
  const headDim = rd.int(['head_dim'], 2, LIMITS.headDim, nEmbd / nHead);
  if (headDim % 2 !== 0) rd.fail(`head_dim must be even for rotary embeddings, got ${headDim}`);
  rd.oneOf('hidden_act', ['silu'], 'silu', '"silu" (SwiGLU)');
  const qwen2 = family === 'qwen2', attnBias = rd.bool('attention_bias', false);
  if ((family === 'qwen2' || family === 'qwen3') && rd.bool('use_sliding_window', false)) {
    rd.fail('config field "use_sliding_window" is true; sliding-window attention is supported for Mistral only (Qwen\'s per-layer windows are not)');
  }
  const window = family === 'mistral' && rd.has('sliding_window') ? rd.int(['sliding_window'], 1, LIMITS.positions) : 0;
  const eosIds = rd.tokenIds('eos_token_id', vocabSize) ?? [];
  if (eosIds.length === 0) rd.fail('missing config field "eos_token_id" (and no generation_config.json names one)');
  return {
    family, nLayer, nHead, nKvHead, headDim, nEmbd, nPositions, vocabSize, nInner,
    norm: 'rmsnorm', normEps: rd.positive('rms_norm_eps', 1e-6), positions: 'rope',
    ropeTheta: rd.positive('rope_theta', 10000), ropeScaling: ropeScaling(rd), mlp: 'swiglu',
    qkvBias: qwen2 || attnBias, oBias: !qwen2 && attnBias, mlpBias: rd.bool('mlp_bias', false), qkNorm: family === 'qwen3',
    tied: rd.bool('tie_word_embeddings', false), window: window < nPositions ? window : 0,
    bosTokenId: rd.tokenIds('bos_token_id', vocabSize)?.[0] ?? null, eosTokenId: eosIds[0], eosTokenIds: eosIds,
  };
}

/** `rope_scaling`: null, "default", "linear" or "llama3" (Llama 3.1/3.2); anything else is refused. */
function ropeScaling(rd: Reader): RopeScaling | null {
  const rs = rd.raw.rope_scaling;
  if (rs === undefined || rs === null) return null;
  if (typeof rs !== 'object' || Array.isArray(rs)) rd.fail(`config field "rope_scaling" must be an object or null, got ${show(rs)}`);
  const r = new Reader(rs as Raw, `${rd.file}: rope_scaling`);
  const type = (rs as Raw).rope_type ?? (rs as Raw).type;
  if (type === 'default') return null;
  if (type === 'linear') return { type, factor: r.positive('factor', NaN) };
  if (type === 'llama3') {
    return {
      type, factor: r.positive('factor', NaN), lowFreqFactor: r.positive('low_freq_factor', NaN),
      highFreqFactor: r.positive('high_freq_factor', NaN), originalContext: r.int(['original_max_position_embeddings'], 1, LIMITS.positions),
    };
  }
  return rd.fail(`rope_scaling type ${show(type)} is not supported (supported: default, linear, llama3)`);
}
