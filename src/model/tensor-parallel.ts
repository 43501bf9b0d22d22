// Linear weights as typed views, and tensor parallelism inside one pipeline stage (Megatron-style,
// on threads): `size` workers run the same micro-batch, each computing a slice of every linear's
// output columns, of the query heads, and (row-wise ops) of the rows, meeting at a barrier between
// ops (forward.ts blocks). Query heads are shared out evenly; a KV group whose query heads fall on
// two ranks has its k and v computed (and written to the cache, the same bytes) by both, so that
// 15 query heads in 5 groups split 8 : 7 rather than 9 : 6 (whole groups), with no extra barrier.
//
// A column slice of a row-major [I, O] weight is I separate pieces, which the hardware prefetcher
// streams badly (measured: a rank's half of c_fc took 69 % of the whole call, not 50 %). So a
// tensor-parallel stage stores each of its linear weights as column shards, rank-major, each a
// contiguous [I, width] block (shardLayerColumns, once at load): a rank streams one contiguous
// stretch per block. With size 1 the layout is the checkpoint's own. A `Linear` says which
// layout its views hold, and forward.ts calls one linear() whatever it is.
//
// Legend: C = hidden, I = MLP width, NH/NKV = query/KV heads, D = head width, QD = NH·D, KD = NKV·D.
import type { KernelSet } from '../kernels/names.js';
import { qkvDims, type ModelConfig } from './config.js';
import type { LayerWeights } from './param-layout.js';
import { q8Blocks } from '../kernels/quant.js';
import type { WeightStore } from './weight-format.js';

/**
 * A linear layer out = inp · w + bias as this thread computes it: column blocks [j0, j1) of the
 * [I, O] output, each held contiguously — f32 or 16-bit [I, j1 - j0], or q8 rows [j1 - j0, I] with
 * their block scales (weight-format.ts).
 */
export interface Linear {
  I: number;
  O: number;
  bias: Float32Array | null;   // [O], all of it
  blocks: Array<{ w: WeightStore; j0: number; j1: number }>; // one block [0, O) for a whole linear
}

/** The four linears of one block, as one thread sees them. */
export interface LayerLinears { qkv: Linear; o: Linear; up: Linear; down: Linear }

/** Scratch for an int8 linear's input rows, quantized once for all its blocks (workspace.ts xq, xd). */
export interface Q8Rows { xq: Int8Array; xd: Float32Array }

/** out[:, blocks] = inp · w + bias   [n, I] → [n, O]; each element by the kernel's one arithmetic, whatever the blocks. */
export function linear(K: KernelSet, out: Float32Array, inp: Float32Array, lin: Linear, n: number, x8: Q8Rows): void {
  if (lin.blocks[0]?.w.kind === 'q8') K.quantizeRowsQ8(x8.xq, x8.xd, inp, n, lin.I); // the blocks' weights are one kind
  for (const { w, j0, j1 } of lin.blocks) {
    switch (w.kind) {
      case 'f32': K.matmul(out, inp, w.w, lin.bias, n, lin.I, lin.O, j0, j1); break;
      case 'q8': K.matmulQ8Rows(out, x8.xq, x8.xd, w.q, w.s, lin.bias, n, lin.I, lin.O, j0, j1); break;
      default: K.matmul16(out, inp, w.w, w.kind, lin.bias, n, lin.I, lin.O, j0, j1);
    }
  }
}

/** A rank's share of a stage; `barrier()` returns once every rank reached it (writes before are visible after). */
export interface TensorPart {
  rank: number;
  size: number;
  barrier(): void;
  /** The next unclaimed piece of work of this step (shared by the ranks), or -1 once `count` are taken. */
  claim(count: number): number;
  layers: LayerLinears[]; // this thread's linears of the layers it runs (layers[l - l0] in forward.ts blocks(…, l0, l1, part))
}

/** The single-thread part of a stage: every linear whole, no barriers. */
export function wholePart(layers: LayerWeights[], c: ModelConfig): TensorPart {
  return { rank: 0, size: 1, barrier: () => {}, claim: () => -1, layers: rankLinears(layers, c, 0, 1) };
}

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
  heads: [number, number];   // query heads ...
  kvHeads: [number, number]; // ... and the key/value heads they read (a neighbour may read the first or last too)
  cCols: [number, number];   // output columns of o and down  [.., C]
  iCols: [number, number];   // MLP columns                   [.., I]
}

export function rankShares(c: ModelConfig, rank: number, size: number): RankShares {
  const heads = shareOf(c.nHead, rank, size), rep = c.nHead / c.nKvHead;
  return { heads, kvHeads: [Math.floor(heads[0] / rep), Math.ceil(heads[1] / rep)], cCols: shareOf(c.nEmbd, rank, size, 16), iCols: shareOf(c.nInner, rank, size, 16) };
}

type LinearKey = keyof LayerLinears;
const STORAGE: Record<LinearKey, 'qkv' | 'o' | 'up' | 'down'> = { qkv: 'qkv', o: 'o', up: 'up', down: 'down' };

/** [I, O] of each linear. */
function shape(c: ModelConfig, key: LinearKey): [number, number] {
  const { q: QD, width: W } = qkvDims(c), U = c.mlp === 'swiglu' ? 2 * c.nInner : c.nInner;
  return { qkv: [c.nEmbd, W], o: [QD, c.nEmbd], up: [c.nEmbd, U], down: [c.nInner, c.nEmbd] }[key] as [number, number];
}

/** A stored column block [j0, j1) of a linear and the ranks that compute those columns from it. */
interface StoredBlock { j0: number; j1: number; ranks: number[] }

/**
 * The column blocks of a linear in storage order, a partition of [0, O): rank-major, each rank's
 * blocks those it is the first to use. qkv: a rank's q heads, then its k and v heads, where a KV
 * group read by two ranks is a block of its own that both use; a SwiGLU up: gate and up columns.
 */
function storedBlocks(c: ModelConfig, key: LinearKey, size: number): StoredBlock[] {
  if (size === 1) return [{ j0: 0, j1: shape(c, key)[1], ranks: [0] }];
  const shares = Array.from({ length: size }, (_, r) => rankShares(c, r, size)), out: StoredBlock[] = [];
  const D = c.headDim, { q: QD, kv: KD } = qkvDims(c), I = c.nInner;
  // KV heads in runs read by the same ranks: [g0, g1) and its readers
  const runs: Array<{ g0: number; g1: number; ranks: number[] }> = [];
  for (let g = 0; g < c.nKvHead; g++) {
    const ranks = shares.flatMap((s, r) => (s.kvHeads[0] <= g && g < s.kvHeads[1] ? [r] : []));
    const last = runs[runs.length - 1];
    if (last && last.ranks.join() === ranks.join()) last.g1 = g + 1;
    else runs.push({ g0: g, g1: g + 1, ranks });
  }
  for (let r = 0; r < size; r++) {
    const s = shares[r], mine = runs.filter((k) => k.ranks[0] === r);
    switch (key) {
      case 'qkv':
        out.push({ j0: s.heads[0] * D, j1: s.heads[1] * D, ranks: [r] });
        for (const base of [QD, QD + KD]) for (const k of mine) out.push({ j0: base + k.g0 * D, j1: base + k.g1 * D, ranks: k.ranks });
        break;
      case 'up':
        out.push({ j0: s.iCols[0], j1: s.iCols[1], ranks: [r] });
        if (c.mlp === 'swiglu') out.push({ j0: I + s.iCols[0], j1: I + s.iCols[1], ranks: [r] });
        break;
      default: out.push({ j0: s.cCols[0], j1: s.cCols[1], ranks: [r] });
    }
  }
  return out;
}

const BIAS: Record<LinearKey, 'qkvB' | 'oB' | 'upB' | 'downB'> = { qkv: 'qkvB', o: 'oB', up: 'upB', down: 'downB' };

/** storedBlocks of each linear (the same for every layer). */
function blocksByKey(c: ModelConfig, size: number): Record<LinearKey, StoredBlock[]> {
  return Object.fromEntries((Object.keys(STORAGE) as LinearKey[]).map((k) => [k, storedBlocks(c, k, size)])) as Record<LinearKey, StoredBlock[]>;
}

/**
 * Rewrites the layers' f32 / 16-bit linear weights ([I, O] row-major) as rank-major contiguous
 * column shards. q8 weights are rows [O, I]: a column range is already contiguous.
 */
export function shardLayerColumns(layers: LayerWeights[], c: ModelConfig, size: number): void {
  if (size === 1) return;
  // one copy buffer of the largest tensor for all of them, per element type: a fresh copy per
  // tensor cost its page faults every time (GPT-2 small f32, 2 ranks: 0.4 s → 0.1–0.15 s)
  const most = Math.max(...(Object.keys(STORAGE) as LinearKey[]).map((k) => shape(c, k)[0] * shape(c, k)[1]));
  let f32: Float32Array | null = null, u16: Uint16Array | null = null;
  const stored = blocksByKey(c, size);
  for (const lw of layers) {
    for (const key of Object.keys(STORAGE) as LinearKey[]) {
      const store = lw[STORAGE[key]];
      if (store.kind === 'q8') continue;
      const [I, O] = shape(c, key), w: Float32Array | Uint16Array = store.w;
      const src = w instanceof Float32Array ? (f32 ??= new Float32Array(most)).subarray(0, w.length) : (u16 ??= new Uint16Array(most)).subarray(0, w.length);
      src.set(w);
      let off = 0;
      for (const { j0, j1 } of stored[key]) {
        const W = j1 - j0;
        for (let i = 0; i < I; i++) w.set(src.subarray(i * O + j0, i * O + j1), off + i * W);
        off += I * W;
      }
    }
  }
}

/** `rank`'s linears of layers laid out by shardLayerColumns with `size` ranks (size 1: the checkpoint's layout). */
export function rankLinears(layers: LayerWeights[], c: ModelConfig, rank: number, size: number): LayerLinears[] {
  const stored = blocksByKey(c, size);
  const view = (lw: LayerWeights, key: LinearKey): Linear => {
    const [I, O] = shape(c, key), store = lw[STORAGE[key]];
    let off = 0;
    const blocks: Linear['blocks'] = [];
    for (const { j0, j1, ranks } of stored[key]) {
      if (ranks.includes(rank)) blocks.push({ w: sliceStore(store, I, j0, j1, off), j0, j1 });
      off += I * (j1 - j0);
    }
    return { I, O, bias: lw[BIAS[key]], blocks };
  };
  return layers.map((lw) => ({ qkv: view(lw, 'qkv'), o: view(lw, 'o'), up: view(lw, 'up'), down: view(lw, 'down') }));
}

/** The block [j0, j1) of a stored linear: at `off` of a column-sharded [I, O] matrix, or rows j0..j1 (and their scales) of q8. */
function sliceStore(store: WeightStore, I: number, j0: number, j1: number, off: number): WeightStore {
  if (store.kind !== 'q8') return { ...store, w: store.w.subarray(off, off + I * (j1 - j0)) } as WeightStore;
  const nb = q8Blocks(I);
  return { kind: 'q8', q: store.q.subarray(j0 * I, j1 * I), s: store.s.subarray(j0 * nb, j1 * nb) };
}
