// Writes a random GPT-2 checkpoint (HF layout, F32) to a temp dir, for tests that compare the
// engine with itself across layouts (no reference needed) and need more layers than the goldens.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode, layout, type RawTensor } from './safetensors-writer.js';
import { rand } from './naive-ops.js';
import { tempDir } from './temp.js';

export function randomCheckpoint(o: { L: number; H: number; C: number; V: number; P: number; seed?: number }): string {
  const { L, H, C, V, P } = o;
  const dir = tempDir('rand');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: 'gpt2', n_layer: L, n_head: H, n_embd: C, n_positions: P, vocab_size: V, n_inner: null,
    activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, eos_token_id: V - 1,
  }));
  let seed = o.seed ?? 1;
  const t = (shape: number[], scale: number, offset = 0): RawTensor => {
    const v = rand(shape.reduce((a, b) => a * b, 1), seed++, scale).map((x) => x + offset);
    return { dtype: 'F32', shape, data: Buffer.from(v.buffer) };
  };
  const ts = new Map<string, RawTensor>([['wte.weight', t([V, C], 0.5)], ['wpe.weight', t([P, C], 0.3)]]);
  for (let l = 0; l < L; l++) {
    const p = `h.${l}.`;
    ts.set(p + 'ln_1.weight', t([C], 0.1, 1)); ts.set(p + 'ln_1.bias', t([C], 0.05));
    ts.set(p + 'attn.c_attn.weight', t([C, 3 * C], 0.3)); ts.set(p + 'attn.c_attn.bias', t([3 * C], 0.05));
    ts.set(p + 'attn.c_proj.weight', t([C, C], 0.3)); ts.set(p + 'attn.c_proj.bias', t([C], 0.05));
    ts.set(p + 'ln_2.weight', t([C], 0.1, 1)); ts.set(p + 'ln_2.bias', t([C], 0.05));
    ts.set(p + 'mlp.c_fc.weight', t([C, 4 * C], 0.3)); ts.set(p + 'mlp.c_fc.bias', t([4 * C], 0.05));
    ts.set(p + 'mlp.c_proj.weight', t([4 * C, C], 0.2)); ts.set(p + 'mlp.c_proj.bias', t([C], 0.05));
  }
  ts.set('ln_f.weight', t([C], 0.1, 1)); ts.set('ln_f.bias', t([C], 0.05));
  const l = layout(ts);
  writeFileSync(join(dir, 'model.safetensors'), encode(JSON.stringify(l.header), l.data));
  return dir;
}

/**
 * A random Qwen3-style checkpoint (HF layout, F32: RMSNorm, RoPE, SwiGLU, q/k norm, GQA, tied) of
 * head width D, for the layout tests of features that need whole 32-channel heads (the q8 KV cache).
 */
export function randomQwen3Checkpoint(o: { L: number; NH: number; NKV: number; D: number; C: number; I: number; V: number; P: number; seed?: number }): string {
  const { L, NH, NKV, D, C, I, V, P } = o;
  const dir = tempDir('rand-qwen3');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: C, intermediate_size: I, num_hidden_layers: L,
    num_attention_heads: NH, num_key_value_heads: NKV, head_dim: D, max_position_embeddings: P, vocab_size: V,
    rms_norm_eps: 1e-6, rope_theta: 1e6, rope_scaling: null, hidden_act: 'silu', attention_bias: false,
    tie_word_embeddings: true, sliding_window: null, use_sliding_window: false, bos_token_id: V - 2, eos_token_id: V - 1,
  }));
  let seed = o.seed ?? 1;
  const t = (shape: number[], scale: number, offset = 0): RawTensor => {
    const v = rand(shape.reduce((a, b) => a * b, 1), seed++, scale).map((x) => x + offset);
    return { dtype: 'F32', shape, data: Buffer.from(v.buffer) };
  };
  const ts = new Map<string, RawTensor>([['model.embed_tokens.weight', t([V, C], 0.5)], ['model.norm.weight', t([C], 0.1, 1)]]);
  for (let l = 0; l < L; l++) {
    const a = `model.layers.${l}.self_attn.`, m = `model.layers.${l}.mlp.`;
    ts.set(`model.layers.${l}.input_layernorm.weight`, t([C], 0.1, 1));
    ts.set(`model.layers.${l}.post_attention_layernorm.weight`, t([C], 0.1, 1));
    ts.set(`${a}q_proj.weight`, t([NH * D, C], 0.3)); ts.set(`${a}k_proj.weight`, t([NKV * D, C], 0.3));
    ts.set(`${a}v_proj.weight`, t([NKV * D, C], 0.3)); ts.set(`${a}o_proj.weight`, t([C, NH * D], 0.3));
    ts.set(`${a}q_norm.weight`, t([D], 0.1, 1)); ts.set(`${a}k_norm.weight`, t([D], 0.1, 1));
    ts.set(`${m}gate_proj.weight`, t([I, C], 0.3)); ts.set(`${m}up_proj.weight`, t([I, C], 0.3)); ts.set(`${m}down_proj.weight`, t([C, I], 0.2));
  }
  const l = layout(ts);
  writeFileSync(join(dir, 'model.safetensors'), encode(JSON.stringify(l.header), l.data));
  return dir;
}
