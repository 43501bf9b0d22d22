// Tensor parallelism inside one pipeline stage (Megatron-style, on threads): `size` workers run
// the same micro-batch, each computing a slice of every matmul's output columns, of the attention
// heads, and (for row-wise ops) of the rows, meeting at a barrier between ops (forward.ts blocks).
//
// A column slice of a row-major [I, O] weight is I separate pieces, which the hardware prefetcher
// streams badly (measured: a rank's half of c_fc took 69 % of the whole call, not 50 %). So a
// tensor-parallel stage stores each of its matmul weights as column shards, rank-major, each a
// contiguous [I, width] block (shardLayerColumns, once at load): a rank streams one contiguous
// stretch per matmul. With size 1 the layout is the checkpoint's own.
//
// Legend: C = n_embd, I = n_inner, NH = n_head, D = C / NH, T = size (ranks).
import type { ModelConfig } from './config.js';
import type { LayerWeights } from './param-layout.js';

/** A rank's share of a stage; `barrier()` returns once every rank reached it (writes before are visible after). */
export interface TensorPart {
  rank: number;
  size: number;
  barrier(): void;
  /** The next unclaimed piece of work of this step (shared by the ranks), or -1 once `count` are taken. */
  claim(count: number): number;
  shards: LayerShards[]; // this rank's weight shards of layers l0.. of blocks(…, l0, l1, part) (empty for size 1)
}

/** The single-worker part: everything, no barriers. */
export const WHOLE: TensorPart = { rank: 0, size: 1, barrier: () => {}, claim: () => -1, shards: [] };

/** [lo, hi) of `total` for `rank` of `size`, cut on multiples of `unit` (GEMM panel width) where possible. */
export function shareOf(total: number, rank: number, size: number, unit = 1): [number, number] {
  const units = Math.ceil(total / unit);
  const cut = (r: number) => Math.min(total, Math.floor((units * r) / size) * unit);
  return [cut(rank), cut(rank + 1)];
}

/**
 * The LM head of a tensor-parallel stage is the longest op after the last barrier, so a rank that
 * runs late there delays the whole step (measured: ranks ended 0.9–1.9 ms apart per 60 ms step,
 * out of ~18 ms of head each). It is cut into this many vocabulary pieces that the ranks claim
 * one at a time, so they end within about one piece of each other. Each piece's logits and
 * argmax are the same whoever computes them.
 */
export function headPieces(size: number): number {
  return 16 * size;
}

export interface RankShares {
  heads: [number, number]; // attention heads
  cCols: [number, number]; // output columns of the two c_proj matmuls  [.., C]
  iCols: [number, number]; // output columns of c_fc                    [.., I]
}

export function rankShares(c: ModelConfig, rank: number, size: number): RankShares {
  return { heads: shareOf(c.nHead, rank, size), cCols: shareOf(c.nEmbd, rank, size, 16), iCols: shareOf(c.nInner, rank, size, 16) };
}

type MatmulKey = 'attnW' | 'attnProjW' | 'fcW' | 'fcProjW';
const MATMULS: Array<[MatmulKey, (c: ModelConfig) => [number, number]]> = [
  ['attnW', (c) => [c.nEmbd, 3 * c.nEmbd]], ['attnProjW', (c) => [c.nEmbd, c.nEmbd]],
  ['fcW', (c) => [c.nEmbd, c.nInner]], ['fcProjW', (c) => [c.nInner, c.nEmbd]],
];

/** Column blocks of one rank, in storage order: c_attn has three (its heads' q, k and v columns). */
function rankBlocks(c: ModelConfig, key: MatmulKey, rank: number, size: number): Array<[number, number]> {
  const s = rankShares(c, rank, size), D = c.nEmbd / c.nHead, C = c.nEmbd;
  switch (key) {
    case 'attnW': return [0, C, 2 * C].map((base) => [base + s.heads[0] * D, base + s.heads[1] * D]);
    case 'fcW': return [s.iCols];
    default: return [s.cCols];
  }
}

/** Rewrites the layers' matmul weights (HF [I, O] row-major) as rank-major contiguous column shards. */
export function shardLayerColumns(layers: LayerWeights[], c: ModelConfig, size: number): void {
  if (size === 1) return;
  for (const lw of layers) {
    for (const [key, shape] of MATMULS) {
      const [I, O] = shape(c), w = lw[key], src = w.slice(); // one tensor's copy, freed after
      let off = 0;
      for (let rank = 0; rank < size; rank++) {
        for (const [j0, j1] of rankBlocks(c, key, rank, size)) {
          const W = j1 - j0;
          for (let i = 0; i < I; i++) w.set(src.subarray(i * O + j0, i * O + j1), off + i * W);
          off += I * W;
        }
      }
    }
  }
}

/** One rank's weight shards of one layer; each is a contiguous [I, width] view. */
export interface LayerShards {
  q: Float32Array; k: Float32Array; v: Float32Array; // [C, heads·D] each
  attnProj: Float32Array;                            // [C, cCols]
  fc: Float32Array;                                  // [C, iCols]
  fcProj: Float32Array;                              // [I, cCols]
}

/** Views of `rank`'s shards in layers laid out by shardLayerColumns (built once per worker). */
export function rankWeightShards(layers: LayerWeights[], c: ModelConfig, rank: number, size: number): LayerShards[] {
  const views = (lw: LayerWeights, key: MatmulKey): Float32Array[] => {
    const [I] = MATMULS.find(([k]) => k === key)![1](c);
    let off = 0;
    for (let r = 0; r < rank; r++) for (const [j0, j1] of rankBlocks(c, key, r, size)) off += I * (j1 - j0);
    return rankBlocks(c, key, rank, size).map(([j0, j1]) => {
      const view = lw[key].subarray(off, off + I * (j1 - j0));
      off += I * (j1 - j0);
      return view;
    });
  };
  return layers.map((lw) => {
    const [q, k, v] = views(lw, 'attnW');
    return { q, k, v, attnProj: views(lw, 'attnProjW')[0], fc: views(lw, 'fcW')[0], fcProj: views(lw, 'fcProjW')[0] };
  });
}
