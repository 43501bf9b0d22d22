// Writes a random GPT-2 checkpoint (HF layout, F32) to a temp dir, for tests that compare the
// engine with itself across layouts (no reference needed) and need more layers than the goldens.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode, layout, type RawTensor } from './safetensors-writer.js';
import { rand } from './naive-ops.js';

export function randomCheckpoint(o: { L: number; H: number; C: number; V: number; P: number; seed?: number }): string {
  const { L, H, C, V, P } = o;
  const dir = mkdtempSync(join(tmpdir(), 'pipegpt-rand-'));
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
