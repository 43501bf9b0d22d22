// Activation memory as a table: every buffer one forward step touches, sized once for the
// largest batch (T rows, M of them needing logits) and laid out in one SharedArrayBuffer.
// Nothing is allocated inside the step loop.
//
// Legend: T = max rows per step, M = max rows needing logits, C = n_embd, I = n_inner,
// V = vocab_size, P = n_positions.
import type { ModelConfig } from './config.js';

export interface Workspace {
  buffer: SharedArrayBuffer;
  maxTokens: number;     // T
  maxLogitRows: number;  // M
  // the flat ragged batch (ggml gpt2_batch): one entry per row
  tokens: Int32Array;     // [T]
  positions: Int32Array;  // [T]
  seqIds: Int32Array;     // [T] sequence slot = row of the block table
  needsLogits: Uint8Array; // [T]
  slots: Int32Array;      // [T] KV cache slot of each row
  logitRows: Int32Array;  // [M] batch row of each logits row
  // activations
  x: Float32Array;        // [T, C] residual stream
  h: Float32Array;        // [T, C] LayerNorm output
  qkv: Float32Array;      // [T, 3C]
  att: Float32Array;      // [T, C] attention output before c_proj
  proj: Float32Array;     // [T, C] c_proj / mlp c_proj output
  fc: Float32Array;       // [T, I]
  headIn: Float32Array;   // [M, C] ln_f output of the rows that sample
  logits: Float32Array;   // [M, V]
  scratch: Float32Array;  // [P] attention scores of one row and head
}

type Kind = 'i32' | 'u8' | 'f32';

export function allocWorkspace(c: ModelConfig, maxTokens: number, maxLogitRows: number): Workspace {
  const T = maxTokens, M = maxLogitRows, { nEmbd: C, nInner: I, vocabSize: V, nPositions: P } = c;
  const table: Array<[keyof Workspace, Kind, number]> = [
    ['tokens', 'i32', T], ['positions', 'i32', T], ['seqIds', 'i32', T], ['slots', 'i32', T],
    ['logitRows', 'i32', M], ['needsLogits', 'u8', T],
    ['x', 'f32', T * C], ['h', 'f32', T * C], ['qkv', 'f32', T * 3 * C], ['att', 'f32', T * C],
    ['proj', 'f32', T * C], ['fc', 'f32', T * I], ['headIn', 'f32', M * C], ['logits', 'f32', M * V],
    ['scratch', 'f32', P],
  ];
  const bytes = (k: Kind, n: number) => Math.ceil(((k === 'u8' ? 1 : 4) * n) / 64) * 64;
  const total = table.reduce((s, [, k, n]) => s + bytes(k, n), 0);
  const buffer = new SharedArrayBuffer(total);
  const ws = { buffer, maxTokens: T, maxLogitRows: M } as Workspace;
  let off = 0;
  for (const [name, k, n] of table) {
    const view = k === 'i32' ? new Int32Array(buffer, off, n) : k === 'u8' ? new Uint8Array(buffer, off, n) : new Float32Array(buffer, off, n);
    (ws as unknown as Record<string, unknown>)[name] = view;
    off += bytes(k, n);
  }
  return ws;
}
