// The GPT-2 forward pass over a flat ragged batch: calls kernels only, no math of its own
// (llm.c gpt2_forward). Split into embed / blocks / head so that a pipeline stage runs its part.
//
// Legend: n = rows in the batch, m = rows that need logits, C = n_embd, I = n_inner, V = vocab.
// Residual stream: ws.x [n, C].
import type { KernelSet } from '../kernels/names.js';
import type { KvStore } from '../kv/kv-store.js';
import type { ModelConfig } from './config.js';
import type { ModelWeights } from './param-layout.js';
import type { Workspace } from './workspace.js';

export interface ForwardContext {
  config: ModelConfig;
  kernels: KernelSet;
  weights: ModelWeights;
  kv: KvStore;
  blockTable: Int32Array;   // [maxSeqs, maxBlocksPerSeq]
  maxBlocksPerSeq: number;
  ws: Workspace;
}

/** ws.x = wte[tokens] + wpe[positions]   [n] → [n, C]; a tensor part embeds its rows only. */
export function embed(ctx: ForwardContext, n: number, part: TensorPart = WHOLE): void {
  const { ws, weights, config } = ctx, C = config.nEmbd;
  const [r0, r1] = shareOf(n, part.rank, part.size);
  ctx.kernels.embedding(ws.x.subarray(r0 * C), ws.tokens.subarray(r0), ws.positions.subarray(r0), weights.wte!, weights.wpe!, r1 - r0, C);
}

/**
 * A tensor-parallel rank's share of a stage: `size` workers run the same micro-batch, each
 * computing a slice of every matmul's output columns (so each streams 1/size of the weights
 * whatever the row count) and of the attention heads; row-wise ops split by rows. `barrier()`
 * returns once every rank has reached it; writes before it are visible to every rank after it.
 * Each element is computed by the same kernel arithmetic as in the whole call, so outputs are
 * byte-identical whatever `size`.
 */
export interface TensorPart {
  rank: number;
  size: number;
  barrier(): void;
}

/** The single-worker part: everything, no barriers. */
export const WHOLE: TensorPart = { rank: 0, size: 1, barrier: () => {} };

/** [lo, hi) of `total` for `rank` of `size`, cut on multiples of `unit` (GEMM panel width) where possible. */
export function shareOf(total: number, rank: number, size: number, unit = 1): [number, number] {
  const units = Math.ceil(total / unit);
  const cut = (r: number) => Math.min(total, Math.floor((units * r) / size) * unit);
  return [cut(rank), cut(rank + 1)];
}

/**
 * Runs layers [l0, l1) on ws.x in place; writes each row's K/V into its cache slot. With a
 * tensor part, ws's activation buffers (h, qkv, att, proj, fc) must be shared by the ranks.
 */
export function blocks(ctx: ForwardContext, n: number, l0: number, l1: number, part: TensorPart = WHOLE): void {
  const { ws, kernels: K, config: c, kv } = ctx;
  const C = c.nEmbd, I = c.nInner, NH = c.nHead, D = C / NH;
  const [r0, r1] = shareOf(n, part.rank, part.size), nr = r1 - r0;           // my rows
  const [hd0, hd1] = shareOf(NH, part.rank, part.size);                       // my heads
  const [c0, c1] = shareOf(C, part.rank, part.size, 16);                      // my columns of C
  const [i0, i1] = shareOf(I, part.rank, part.size, 16);                      // my columns of I
  const rows = (a: Float32Array, width: number) => a.subarray(r0 * width, r1 * width);
  const tp = part.size > 1;
  for (let l = l0; l < l1; l++) {
    const w = ctx.weights.layers[l - ctx.weights.layout.stage.layerStart];
    const kCache = kv.k[l - kv.layerStart], vCache = kv.v[l - kv.layerStart];
    if (l === l0) K.layernorm(rows(ws.h, C), rows(ws.x, C), w.ln1W, w.ln1B, nr, C, c.layerNormEps); // [nr, C]
    part.barrier();                                                       // h complete
    if (!tp) K.matmul(ws.qkv, ws.h, w.attnW, w.attnB, n, C, 3 * C);       // [n, C] -> [n, 3C]
    else for (const base of [0, C, 2 * C]) {                              // q, k, v of my heads
      K.matmul(ws.qkv, ws.h, w.attnW, w.attnB, n, C, 3 * C, base + hd0 * D, base + hd1 * D);
    }
    K.kvWrite(ws.qkv, kCache, vCache, ws.slots, n, C, hd0 * D, hd1 * D);  // k, v -> cache slots
    K.attention({                                                         // [n, 3C] -> [n, C]
      out: ws.att, qkv: ws.qkv, kCache, vCache, seqIds: ws.seqIds, positions: ws.positions,
      blockTable: ctx.blockTable, maxBlocksPerSeq: ctx.maxBlocksPerSeq, blockSize: kv.blockSize,
      n, nHead: NH, C, scratch: ws.scratch, h0: hd0, h1: hd1,
    });
    part.barrier();                                                       // att complete
    K.matmul(ws.proj, ws.att, w.attnProjW, w.attnProjB, n, C, C, c0, c1); // [n, C] -> [n, C]
    part.barrier();                                                       // proj complete
    K.residual(rows(ws.x, C), rows(ws.x, C), rows(ws.proj, C), nr * C);   // x += attn
    K.layernorm(rows(ws.h, C), rows(ws.x, C), w.ln2W, w.ln2B, nr, C, c.layerNormEps); // [nr, C]
    part.barrier();                                                       // h complete
    K.matmul(ws.fc, ws.h, w.fcW, w.fcB, n, C, I, i0, i1);                 // [n, C] -> [n, I]
    if (!tp) K.gelu(ws.fc, ws.fc, n * I);                                 // [n, I]
    else for (let r = 0; r < n; r++) K.gelu(ws.fc.subarray(r * I + i0, r * I + i1), ws.fc.subarray(r * I + i0, r * I + i1), i1 - i0);
    part.barrier();                                                       // fc complete
    K.matmul(ws.proj, ws.fc, w.fcProjW, w.fcProjB, n, I, C, c0, c1);      // [n, I] -> [n, C]
    part.barrier();                                                       // proj complete
    K.residual(rows(ws.x, C), rows(ws.x, C), rows(ws.proj, C), nr * C);   // x += mlp
    if (l + 1 < l1) {                                                     // next layer's ln_1, same rows
      const wn = ctx.weights.layers[l + 1 - ctx.weights.layout.stage.layerStart];
      K.layernorm(rows(ws.h, C), rows(ws.x, C), wn.ln1W, wn.ln1B, nr, C, c.layerNormEps);
    }
  }
}

/**
 * ln_f and the tied LM head, only for rows with needsLogits (nanoGPT: "only forward the lm_head
 * on the very last position"), for vocabulary ids [v0, v1) (a shard, when the head is split
 * across workers; default all). Returns m; ws.logits holds [m, V], ws.logitRows the batch row of each.
 */
export function head(ctx: ForwardContext, n: number, v0 = 0, v1 = ctx.config.vocabSize): number {
  const { ws, weights, config: c, kernels: K } = ctx;
  const C = c.nEmbd, V = c.vocabSize, Vs = v1 - v0;
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (!ws.needsLogits[r]) continue;
    ws.logitRows[m] = r;
    for (let i = 0; i < C; i++) ws.headIn[m * C + i] = ws.x[r * C + i];  // gather [m, C]
    m++;
  }
  K.layernorm(ws.headIn, ws.headIn, weights.lnfW!, weights.lnfB!, m, C, c.layerNormEps); // [m, C]
  if (Vs === V) {
    K.lmHead(ws.logits, ws.headIn, weights.wte!, m, C, V);                // [m, C] -> [m, V]
  } else {
    const wteShard = weights.wte!.subarray(v0 * C, v1 * C);              // [Vs, C]
    K.lmHead(ws.shard, ws.headIn, wteShard, m, C, Vs);                    // [m, C] -> [m, Vs]
    for (let r = 0; r < m; r++) ws.logits.set(ws.shard.subarray(r * Vs, (r + 1) * Vs), r * V + v0); // scatter
  }
  return m;
}

/** The whole model in one call: embeddings, every layer, head. */
export function forward(ctx: ForwardContext, n: number): number {
  embed(ctx, n);
  blocks(ctx, n, 0, ctx.config.nLayer);
  return head(ctx, n);
}
