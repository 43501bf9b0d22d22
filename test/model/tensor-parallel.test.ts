// Tensor-parallel shares and weight shards (src/model/tensor-parallel.ts), checked against the
// plain column slices of the unsharded matrices.
import test from 'ava';
import { parseModelConfig } from '../../src/model/config.js';
import type { LayerWeights } from '../../src/model/param-layout.js';
import { rankShares, rankWeightShards, shardLayerColumns, shareOf } from '../../src/model/tensor-parallel.js';

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

const c = parseModelConfig({ n_layer: 1, n_head: 4, n_embd: 32, n_positions: 16, vocab_size: 50 }, 'tp');
const D = 8, C = 32, I = 128;
/** w[k, j] = 1000·k + j + salt: every element tells where it came from. */
const matrix = (rows: number, cols: number, salt: number) => Float32Array.from({ length: rows * cols }, (_, i) => 1000 * Math.floor(i / cols) + (i % cols) + salt / 8);
const columns = (w: Float32Array, rows: number, cols: number, j0: number, j1: number) => {
  const out: number[] = [];
  for (let k = 0; k < rows; k++) for (let j = j0; j < j1; j++) out.push(w[k * cols + j]);
  return out;
};

for (const size of [2, 3]) {
  test(`${size} ranks: each rank's shards are exactly its columns of the checkpoint's matrices`, (t) => {
    const orig = { attnW: matrix(C, 3 * C, 1), attnProjW: matrix(C, C, 2), fcW: matrix(C, I, 3), fcProjW: matrix(I, C, 4) };
    const lw = { attnW: orig.attnW.slice(), attnProjW: orig.attnProjW.slice(), fcW: orig.fcW.slice(), fcProjW: orig.fcProjW.slice() } as unknown as LayerWeights;
    shardLayerColumns([lw], c, size);
    t.notDeepEqual(Array.from(lw.fcW), Array.from(orig.fcW)); // rearranged in place
    for (let rank = 0; rank < size; rank++) {
      const [sh] = rankWeightShards([lw], c, rank, size), s = rankShares(c, rank, size);
      const [h0, h1] = s.heads;
      t.deepEqual(Array.from(sh.q), columns(orig.attnW, C, 3 * C, h0 * D, h1 * D), `rank ${rank} q`);
      t.deepEqual(Array.from(sh.k), columns(orig.attnW, C, 3 * C, C + h0 * D, C + h1 * D), `rank ${rank} k`);
      t.deepEqual(Array.from(sh.v), columns(orig.attnW, C, 3 * C, 2 * C + h0 * D, 2 * C + h1 * D), `rank ${rank} v`);
      t.deepEqual(Array.from(sh.attnProj), columns(orig.attnProjW, C, C, ...s.cCols), `rank ${rank} attn c_proj`);
      t.deepEqual(Array.from(sh.fc), columns(orig.fcW, C, I, ...s.iCols), `rank ${rank} c_fc`);
      t.deepEqual(Array.from(sh.fcProj), columns(orig.fcProjW, I, C, ...s.cCols), `rank ${rank} mlp c_proj`);
    }
  });
}
