// A GPT-2-small-shaped checkpoint with random weights (12 layers, 768 wide, 50257 vocabulary,
// 1024 positions), written once as F16 safetensors into a cache folder. Nothing is downloaded.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHAPE = { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };

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

export function randomGpt2Small(dir = join(tmpdir(), 'pipegpt-bench', 'gpt2-small-random')): string {
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const { n_layer: L, n_embd: C, n_positions: P, vocab_size: V } = SHAPE;
  const tensors: Array<[string, number[], number, number]> = [['wte.weight', [V, C], 0.02, 0], ['wpe.weight', [P, C], 0.01, 0]];
  for (let l = 0; l < L; l++) {
    for (const [n, shape, scale, off] of [
      ['ln_1.weight', [C], 0.02, 1], ['ln_1.bias', [C], 0.02, 0], ['attn.c_attn.weight', [C, 3 * C], 0.02, 0], ['attn.c_attn.bias', [3 * C], 0.02, 0],
      ['attn.c_proj.weight', [C, C], 0.02, 0], ['attn.c_proj.bias', [C], 0.02, 0], ['ln_2.weight', [C], 0.02, 1], ['ln_2.bias', [C], 0.02, 0],
      ['mlp.c_fc.weight', [C, 4 * C], 0.02, 0], ['mlp.c_fc.bias', [4 * C], 0.02, 0], ['mlp.c_proj.weight', [4 * C, C], 0.02, 0], ['mlp.c_proj.bias', [C], 0.02, 0],
    ] as Array<[string, number[], number, number]>) tensors.push([`h.${l}.${n}`, shape, scale, off]);
  }
  tensors.push(['ln_f.weight', [C], 0.02, 1], ['ln_f.bias', [C], 0.02, 0]);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, shape] of tensors) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const fd = openSync(join(dir, 'model.safetensors.tmp'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, text);
  let s = 0x9e3779b9;
  for (const [, shape, scale, offset] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1), buf = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      buf[i] = f16(offset + scale * ((s / 4294967296) * 2 - 1) * 1.7);
    }
    writeSync(fd, new Uint8Array(buf.buffer));
  }
  closeSync(fd);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', ...SHAPE, n_ctx: 1024, n_inner: null, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, bos_token_id: 50256, eos_token_id: 50256 }));
  // rename last, so an interrupted write is never mistaken for a finished checkpoint
  renameSync(join(dir, 'model.safetensors.tmp'), join(dir, 'model.safetensors'));
  return dir;
}
