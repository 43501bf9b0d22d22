// Tensor-parallel shares and weight shards (src/model/tensor-parallel.ts), checked against the
// plain column slices of the unsharded matrices.
import test from 'ava';
import { parseModelConfig, qkvDims } from '../../src/model/config.js';
import type { LayerWeights } from '../../src/model/param-layout.js';
import { rankLinears, rankShares, shardLayerColumns, shareOf } from '../../src/model/tensor-parallel.js';

test('shareOf cuts [0, total) into contiguous, disjoint shares on multiples of the unit', (t) => {
  for (const [total, size, unit] of [[768, 2, 16], [3072, 3, 16], [50257, 2, 8], [12, 5, 1], [7, 3, 16]]) {
    let next = 0;
    for (let rank = 0; rank < size; rank++) {
      const [lo, hi] = shareOf(total, rank, size, unit);
      t.is(lo, next, `${total}/${size} rank ${rank} starts where the previous ended`);
      t.true(hi >= lo);
      t.true(hi === total || hi % unit === 0, `${total}/${size} rank ${rank} ends on a unit`);
      next = hi;
    }
    t.is(next, total);
  }
  t.deepEqual(shareOf(768, 0, 2, 16), [0, 384]);
  t.deepEqual(shareOf(12, 1, 2), [6, 12]);
});

const gpt2 = parseModelConfig({ n_layer: 1, n_head: 4, n_embd: 32, n_positions: 16, vocab_size: 50 }, 'tp');
// GQA: 8 query heads in 2 KV groups of 4, head_dim 4 ≠ hidden / heads, SwiGLU (gate|up fused)
const llama = parseModelConfig({ model_type: 'llama', num_hidden_layers: 1, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 4,
  hidden_size: 48, intermediate_size: 80, max_position_embeddings: 16, vocab_size: 50, eos_token_id: 1 }, 'tp');

/** w[k, j] = 1000·k + j + salt: every element tells where it came from. */
const matrix = (rows: number, cols: number, salt: number) => Float32Array.from({ length: rows * cols }, (_, i) => 1000 * Math.floor(i / cols) + (i % cols) + salt / 8);
const columns = (w: Float32Array, rows: number, cols: number, j0: number, j1: number) => {
  const out: number[] = [];
  for (let k = 0; k < rows; k++) for (let j = j0; j < j1; j++) out.push(w[k * cols + j]);
  return out;
};

// 9 query heads in 3 groups: 2 ranks take heads [0, 4) and [4, 9), so both read group 1; 7 in 1: all read group 0
const odd = (NH: number, NKV: number) => parseModelConfig({ model_type: 'llama', num_hidden_layers: 1, num_attention_heads: NH,
  num_key_value_heads: NKV, head_dim: 4, hidden_size: 48, intermediate_size: 80, max_position_embeddings: 16, vocab_size: 50, eos_token_id: 1 }, 'tp');

for (const [name, c] of [['gpt2', gpt2], ['llama GQA + SwiGLU', llama], ['GQA 9/3', odd(9, 3)], ['GQA 7/1', odd(7, 1)]] as const) for (const size of [1, 2, 3]) {
  test(`${name}, ${size} rank(s): each rank's linears are exactly its columns of the checkpoint's matrices, with the kernel's column ranges`, (t) => {
    const { q: QD, kv: KD, width: W } = qkvDims(c), C = c.nEmbd, I = c.nInner, U = c.mlp === 'swiglu' ? 2 * I : I, D = c.headDim;
    const orig = { qkv: matrix(C, W, 1), o: matrix(QD, C, 2), up: matrix(C, U, 3), down: matrix(I, C, 4) };
    const f32 = (w: Float32Array) => ({ kind: 'f32' as const, w: w.slice() });
    const lw = { qkv: f32(orig.qkv), o: f32(orig.o), up: f32(orig.up), down: f32(orig.down), qkvB: null, oB: null, upB: null, downB: null } as unknown as LayerWeights;
    shardLayerColumns([lw], c, size);
    if (size > 1) t.notDeepEqual(Array.from((lw.up as { w: Float32Array }).w), Array.from(orig.up)); // rearranged in place
    const cover = new Map<string, number>();
    for (let rank = 0; rank < size; rank++) {
      const [lin] = rankLinears([lw], c, rank, size), s = rankShares(c, rank, size);
      const [g0, g1] = s.kvHeads, [h0, h1] = s.heads, rep = c.nHead / c.nKvHead;
      t.deepEqual(s.heads, shareOf(c.nHead, rank, size), 'query heads shared out evenly');
      t.deepEqual(s.kvHeads, [Math.floor(h0 / rep), Math.ceil(h1 / rep)], 'the KV heads those query heads read');
      const want = { qkv: [[h0 * D, h1 * D], [QD + g0 * D, QD + g1 * D], [QD + KD + g0 * D, QD + KD + g1 * D]], o: [s.cCols], down: [s.cCols],
        up: c.mlp === 'swiglu' ? [s.iCols, [I + s.iCols[0], I + s.iCols[1]]] : [s.iCols] };
      const dims = { qkv: [C, W], o: [QD, C], up: [C, U], down: [I, C] };
      const cols = (ranges: number[][]) => ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)).sort((x, y) => x - y);
      for (const key of ['qkv', 'o', 'up', 'down'] as const) {
        const blocks = size === 1 ? [[0, dims[key][1]]] : want[key];
        // exactly these columns (a KV group read by two ranks is a block of its own, so qkv may have more blocks)
        t.deepEqual(cols(lin[key].blocks.map((b) => [b.j0, b.j1])), cols(blocks), `rank ${rank} ${key} columns`);
        lin[key].blocks.forEach((b) => {
          t.deepEqual(Array.from((b.w as { w: Float32Array }).w), columns(orig[key], dims[key][0], dims[key][1], b.j0, b.j1), `rank ${rank} ${key} [${b.j0}, ${b.j1})`);
          for (let j = b.j0; j < b.j1; j++) cover.set(`${key}:${j}`, (cover.get(`${key}:${j}`) ?? 0) + 1);
        });
      }
    }
    // every column computed: q, o, MLP columns by exactly one rank; a k or v head by each rank that reads it
    const readers = (g: number) => Array.from({ length: size }, (_, r) => rankShares(c, r, size).kvHeads).filter(([a, b]) => a <= g && g < b).length;
    for (const key of ['qkv', 'o', 'up', 'down'] as const) {
      const O = { qkv: W, o: C, up: U, down: C }[key];
      for (let j = 0; j < O; j++) {
        const want = key === 'qkv' && j >= QD && size > 1 ? readers(Math.floor(((j - QD) % KD) / D)) : 1;
        t.is(cover.get(`${key}:${j}`), want, `${key} column ${j} computed by ${want} rank(s)`);
      }
    }
  });
}

test('q8 linears are not rewritten: a rank\'s block is rows [j0, j1) of the [O, I] matrix and their block scales', (t) => {
  const c = llama, { width: W } = qkvDims(c), C = c.nEmbd, nb = Math.ceil(C / 32);
  const q = Int8Array.from({ length: W * C }, (_, i) => (i % 251) - 125), s = Float32Array.from({ length: W * nb }, (_, i) => i + 0.5);
  const store = { kind: 'q8' as const, q: q.slice(), s: s.slice() };
  const lw = { qkv: store, o: store, up: store, down: store, qkvB: null, oB: null, upB: null, downB: null } as unknown as LayerWeights;
  shardLayerColumns([lw], c, 2);
  t.deepEqual(Array.from(store.q), Array.from(q)); // untouched
  for (let rank = 0; rank < 2; rank++) {
    for (const b of rankLinears([lw], c, rank, 2)[0].qkv.blocks) {
      const w = b.w as { q: Int8Array; s: Float32Array };
      t.deepEqual(Array.from(w.q), Array.from(q.subarray(b.j0 * C, b.j1 * C)), `rank ${rank} rows [${b.j0}, ${b.j1})`);
      t.deepEqual(Array.from(w.s), Array.from(s.subarray(b.j0 * nb, b.j1 * nb)));
    }
  }
});
