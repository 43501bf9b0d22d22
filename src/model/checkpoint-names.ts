// Where each family's checkpoint tensors go in the parameter table (param-layout.ts): which
// internal entry, at which column offset, and whether the tensor is an nn.Linear weight stored
// [out, in] that is transposed into the table's [in, out] order. GPT-2 (HF Conv1D) is already
// [in, out]. q, k and v land side by side in one [C, W] entry, gate and up in one [C, 2I].
import { qkvDims, type ModelConfig } from './config.js';

export interface TensorTarget {
  entry: string;     // internal layout entry
  shape: number[];   // the checkpoint tensor's shape, as config.json implies it
  col: number;       // first column of the entry it fills (linear weights and biases)
  transpose: boolean; // [out, in] → columns [col, col + out) of the [in, O] entry
}

/** Checkpoint tensors a checkpoint may carry that pipegpt does not need. */
export function ignoredTensor(c: ModelConfig, name: string): boolean {
  if (c.family === 'gpt2') return /^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$/.test(name);
  return /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(name) || (c.tied && name === 'lm_head.weight');
}

/** The name a checkpoint tensor is known by here ("transformer." of old GPT-2 files dropped). */
export function canonicalName(c: ModelConfig, name: string): string {
  return c.family === 'gpt2' && name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
}

/** Every tensor the family's checkpoint must hold for layers [l0, l1) (and the ends, when asked), and where it goes. */
export function checkpointTensors(c: ModelConfig, l0 = 0, l1 = c.nLayer, ends = true): Map<string, TensorTarget> {
  const out = new Map<string, TensorTarget>();
  const put = (name: string, entry: string, shape: number[], col = 0, transpose = false) => out.set(name, { entry, shape, col, transpose });
  const { nEmbd: C, nInner: I, vocabSize: V, nPositions: P, headDim: D } = c, { q: QD, kv: KD } = qkvDims(c);
  if (c.family === 'gpt2') {
    if (ends) put('wte.weight', 'wte', [V, C]), put('wpe.weight', 'wpe', [P, C]), put('ln_f.weight', 'normf.w', [C]), put('ln_f.bias', 'normf.b', [C]);
    for (let l = l0; l < l1; l++) {
      const h = `h.${l}.`, L = `L${l}.`;
      put(`${h}ln_1.weight`, `${L}norm1.w`, [C]); put(`${h}ln_1.bias`, `${L}norm1.b`, [C]);
      put(`${h}attn.c_attn.weight`, `${L}qkv.w`, [C, 3 * C]); put(`${h}attn.c_attn.bias`, `${L}qkv.b`, [3 * C]);
      put(`${h}attn.c_proj.weight`, `${L}o.w`, [C, C]); put(`${h}attn.c_proj.bias`, `${L}o.b`, [C]);
      put(`${h}ln_2.weight`, `${L}norm2.w`, [C]); put(`${h}ln_2.bias`, `${L}norm2.b`, [C]);
      put(`${h}mlp.c_fc.weight`, `${L}up.w`, [C, I]); put(`${h}mlp.c_fc.bias`, `${L}up.b`, [I]);
      put(`${h}mlp.c_proj.weight`, `${L}down.w`, [I, C]); put(`${h}mlp.c_proj.bias`, `${L}down.b`, [C]);
    }
    return out;
  }
  if (ends) {
    put('model.embed_tokens.weight', 'wte', [V, C]);
    put('model.norm.weight', 'normf.w', [C]);
    if (!c.tied) put('lm_head.weight', 'lm_head', [V, C]);
  }
  for (let l = l0; l < l1; l++) {
    const a = `model.layers.${l}.self_attn.`, m = `model.layers.${l}.mlp.`, L = `L${l}.`;
    put(`model.layers.${l}.input_layernorm.weight`, `${L}norm1.w`, [C]);
    put(`model.layers.${l}.post_attention_layernorm.weight`, `${L}norm2.w`, [C]);
    put(`${a}q_proj.weight`, `${L}qkv.w`, [QD, C], 0, true);
    put(`${a}k_proj.weight`, `${L}qkv.w`, [KD, C], QD, true);
    put(`${a}v_proj.weight`, `${L}qkv.w`, [KD, C], QD + KD, true);
    if (c.qkvBias) put(`${a}q_proj.bias`, `${L}qkv.b`, [QD], 0), put(`${a}k_proj.bias`, `${L}qkv.b`, [KD], QD), put(`${a}v_proj.bias`, `${L}qkv.b`, [KD], QD + KD);
    if (c.qkNorm) put(`${a}q_norm.weight`, `${L}qnorm`, [D]), put(`${a}k_norm.weight`, `${L}knorm`, [D]);
    put(`${a}o_proj.weight`, `${L}o.w`, [C, QD], 0, true);
    if (c.oBias) put(`${a}o_proj.bias`, `${L}o.b`, [C]);
    put(`${m}gate_proj.weight`, `${L}up.w`, [I, C], 0, true);
    put(`${m}up_proj.weight`, `${L}up.w`, [I, C], I, true);
    put(`${m}down_proj.weight`, `${L}down.w`, [C, I], 0, true);
    if (c.mlpBias) put(`${m}gate_proj.bias`, `${L}up.b`, [I], 0), put(`${m}up_proj.bias`, `${L}up.b`, [I], I), put(`${m}down_proj.bias`, `${L}down.b`, [C]);
  }
  return out;
}
