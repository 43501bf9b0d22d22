// Checkpoints with random weights in the real shapes benchmarks need, written once as F16
// safetensors into a cache folder (nothing is downloaded):
//   gpt2-small     12 layers, 768 wide, 12 heads, vocabulary 50257, 1024 positions (tied)
//   smollm2-135m   Llama: 30 layers, 576 wide, 9 heads / 3 KV heads, MLP 1536, vocabulary 49152 (tied)
//   smollm2-360m   Llama: 32 layers, 960 wide, 15 heads / 5 KV heads, MLP 2560, vocabulary 49152 (tied)
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Tensor = [name: string, shape: number[], scale: number, offset: number];
interface Shape { config: Record<string, unknown>; tensors(): Tensor[] }

function llama(L: number, C: number, H: number, KV: number, I: number): Shape {
  const V = 49152, D = C / H;
  return {
    config: {
      model_type: 'llama', architectures: ['LlamaForCausalLM'], num_hidden_layers: L, hidden_size: C, num_attention_heads: H,
      num_key_value_heads: KV, intermediate_size: I, vocab_size: V, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
      rope_theta: 100000, hidden_act: 'silu', tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float16',
    },
    tensors() {
      const t: Tensor[] = [['model.embed_tokens.weight', [V, C], 0.02, 0]];
      for (let l = 0; l < L; l++) {
        const p = `model.layers.${l}.`;
        t.push([`${p}input_layernorm.weight`, [C], 0.02, 1], [`${p}self_attn.q_proj.weight`, [H * D, C], 0.02, 0],
          [`${p}self_attn.k_proj.weight`, [KV * D, C], 0.02, 0], [`${p}self_attn.v_proj.weight`, [KV * D, C], 0.02, 0],
          [`${p}self_attn.o_proj.weight`, [C, H * D], 0.02, 0], [`${p}post_attention_layernorm.weight`, [C], 0.02, 1],
          [`${p}mlp.gate_proj.weight`, [I, C], 0.02, 0], [`${p}mlp.up_proj.weight`, [I, C], 0.02, 0], [`${p}mlp.down_proj.weight`, [C, I], 0.02, 0]);
      }
      t.push(['model.norm.weight', [C], 0.02, 1]);
      return t;
    },
  };
}

const gpt2Small: Shape = {
  config: { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257, n_ctx: 1024, n_inner: null,
    activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, bos_token_id: 50256, eos_token_id: 50256 },
  tensors() {
    const L = 12, C = 768, P = 1024, V = 50257;
    const t: Tensor[] = [['wte.weight', [V, C], 0.02, 0], ['wpe.weight', [P, C], 0.01, 0]];
    for (let l = 0; l < L; l++) {
      for (const [n, shape, scale, off] of [
        ['ln_1.weight', [C], 0.02, 1], ['ln_1.bias', [C], 0.02, 0], ['attn.c_attn.weight', [C, 3 * C], 0.02, 0], ['attn.c_attn.bias', [3 * C], 0.02, 0],
        ['attn.c_proj.weight', [C, C], 0.02, 0], ['attn.c_proj.bias', [C], 0.02, 0], ['ln_2.weight', [C], 0.02, 1], ['ln_2.bias', [C], 0.02, 0],
        ['mlp.c_fc.weight', [C, 4 * C], 0.02, 0], ['mlp.c_fc.bias', [4 * C], 0.02, 0], ['mlp.c_proj.weight', [4 * C, C], 0.02, 0], ['mlp.c_proj.bias', [C], 0.02, 0],
      ] as Tensor[]) t.push([`h.${l}.${n}`, shape, scale, off]);
    }
    t.push(['ln_f.weight', [C], 0.02, 1], ['ln_f.bias', [C], 0.02, 0]);
    return t;
  },
};

export const SHAPES: Record<string, Shape> = {
  'gpt2-small': gpt2Small, 'smollm2-135m': llama(30, 576, 9, 3, 1536), 'smollm2-360m': llama(32, 960, 15, 5, 2560),
};

const F = new Float32Array(1), U = new Uint32Array(F.buffer);
function f16(x: number): number {
  // float32 → float16 bits, round to nearest (values here are small and normal)
  F[0] = x;
  const u = U[0];
  const sign = (u >>> 16) & 0x8000, exp = ((u >>> 23) & 0xff) - 127 + 15, man = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | ((man + 0x1000) >>> 13);
}

/** The checkpoint directory of a named shape, written on first use. */
export function randomCheckpoint(shape = 'gpt2-small', dir = join(tmpdir(), 'pipegpt-bench', `${shape}-random`)): string {
  const s = SHAPES[shape];
  if (!s) throw new Error(`unknown shape "${shape}" (known: ${Object.keys(SHAPES).join(', ')})`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const tensors = s.tensors();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, shp] of tensors) {
    const bytes = 2 * shp.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape: shp, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const fd = openSync(join(dir, 'model.safetensors.tmp'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, text);
  let r = 0x9e3779b9;
  for (const [, shp, scale, offset] of tensors) {
    const n = shp.reduce((a, b) => a * b, 1), buf = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      r ^= r << 13; r >>>= 0; r ^= r >>> 17; r ^= r << 5; r >>>= 0;
      buf[i] = f16(offset + scale * ((r / 4294967296) * 2 - 1) * 1.7);
    }
    writeSync(fd, new Uint8Array(buf.buffer));
  }
  closeSync(fd);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(s.config));
  // rename last, so an interrupted write is never mistaken for a finished checkpoint
  renameSync(join(dir, 'model.safetensors.tmp'), join(dir, 'model.safetensors'));
  return dir;
}
