// The GPT-2 forward pass over a flat ragged batch: calls kernels only, no math of its own
// (llm.c gpt2_forward). Split into embed / blocks / head so that a pipeline stage runs its part.
//
// Legend: n = rows in the batch, m = rows that need logits, C = n_embd, I = n_inner, V = vocab.
// Residual stream: ws.x [n, C].
import type { KernelSet } from '../kernels/names.js';
import type { KvStore } from '../kv/kv-store.js';
import type { ModelConfig } from './config.js';
import type { ModelWeights } from './param-layout.js';
import { rankShares, shareOf, WHOLE, type TensorPart } from './tensor-parallel.js';
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
 * Runs layers [l0, l1) on ws.x in place; writes each row's K/V into its cache slot. With a
 * tensor part (model/tensor-parallel.ts) this is one rank's share, and ws.att and ws.fc must be
 * shared by the ranks (the rest of ws is private) and the layers' matmul weights sharded. Each
 * rank normalizes every row itself (cheap) rather than waiting for the others' rows, so a layer
 * needs four barriers. On return x is complete (every rank's columns).
 */
export function blocks(ctx: ForwardContext, n: number, l0: number, l1: number, part: TensorPart = WHOLE): void {
  const { ws, kernels: K, config: c, kv } = ctx;
  const C = c.nEmbd, I = c.nInner, NH = c.nHead, D = C / NH;
  const { heads: [hd0, hd1], cCols: [c0, c1], iCols: [i0, i1] } = rankShares(c, part.rank, part.size);
  for (let l = l0; l < l1; l++) {
    const w = ctx.weights.layers[l - ctx.weights.layout.stage.layerStart];
    const sh = part.size > 1 ? part.shards[l - l0] : null;               // my column shards of w
    const kCache = kv.k[l - kv.layerStart], vCache = kv.v[l - kv.layerStart];
    K.layernorm(ws.h, ws.x, w.ln1W, w.ln1B, n, C, c.layerNormEps);       // [n, C]
    if (!sh) K.matmul(ws.qkv, ws.h, w.attnW, w.attnB, n, C, 3 * C);       // [n, C] -> [n, 3C]
    else {                                                                // q, k, v of my heads
      K.matmul(ws.qkv, ws.h, sh.q, w.attnB, n, C, 3 * C, hd0 * D, hd1 * D);
      K.matmul(ws.qkv, ws.h, sh.k, w.attnB, n, C, 3 * C, C + hd0 * D, C + hd1 * D);
      K.matmul(ws.qkv, ws.h, sh.v, w.attnB, n, C, 3 * C, 2 * C + hd0 * D, 2 * C + hd1 * D);
    }
    K.kvWrite(ws.qkv, kCache, vCache, ws.slots, n, C, C, hd0 * D, hd1 * D); // k, v -> cache slots
    K.attention({                                                         // [n, 3C] -> [n, C]
      out: ws.att, qkv: ws.qkv, kCache, vCache, seqIds: ws.seqIds, positions: ws.positions,
      blockTable: ctx.blockTable, maxBlocksPerSeq: ctx.maxBlocksPerSeq, blockSize: kv.blockSize,
      n, nHead: NH, nKvHead: NH, headDim: D, window: 0, scratch: ws.scratch, h0: hd0, h1: hd1,
    });
    part.barrier();                                                       // att complete
    if (!sh) K.matmul(ws.proj, ws.att, w.attnProjW, w.attnProjB, n, C, C); // [n, C] -> [n, C]
    else K.matmul(ws.proj, ws.att, sh.attnProj, w.attnProjB, n, C, C, c0, c1);
    addColumns(K, ws.x, ws.proj, n, C, c0, c1);                           // x += attn
    part.barrier();                                                       // x complete
    K.layernorm(ws.h, ws.x, w.ln2W, w.ln2B, n, C, c.layerNormEps);       // [n, C]
    if (!sh) K.matmul(ws.fc, ws.h, w.fcW, w.fcB, n, C, I);                // [n, C] -> [n, I]
    else K.matmul(ws.fc, ws.h, sh.fc, w.fcB, n, C, I, i0, i1);
    geluColumns(K, ws.fc, n, I, i0, i1);                                  // [n, I]
    part.barrier();                                                       // fc complete
    if (!sh) K.matmul(ws.proj, ws.fc, w.fcProjW, w.fcProjB, n, I, C);     // [n, I] -> [n, C]
    else K.matmul(ws.proj, ws.fc, sh.fcProj, w.fcProjB, n, I, C, c0, c1);
    addColumns(K, ws.x, ws.proj, n, C, c0, c1);                           // x += mlp
    part.barrier();                                                       // x complete
  }
}

/** x[:, j0:j1] += y[:, j0:j1]   [n, W]; one call when the range is whole rows. */
function addColumns(K: KernelSet, x: Float32Array, y: Float32Array, n: number, W: number, j0: number, j1: number): void {
  if (j0 === 0 && j1 === W) { K.residual(x, x, y, n * W); return; }
  for (let r = 0; r < n; r++) {
    const a = x.subarray(r * W + j0, r * W + j1);
    K.residual(a, a, y.subarray(r * W + j0, r * W + j1), j1 - j0);
  }
}

/** a[:, j0:j1] = gelu(a[:, j0:j1])   [n, W]; one call when the range is whole rows. */
function geluColumns(K: KernelSet, a: Float32Array, n: number, W: number, j0: number, j1: number): void {
  if (j0 === 0 && j1 === W) { K.gelu(a, a, n * W); return; }
  for (let r = 0; r < n; r++) {
    const v = a.subarray(r * W + j0, r * W + j1);
    K.gelu(v, v, j1 - j0);
  }
}

/**
 * ln_f and the tied LM head, only for rows with needsLogits (nanoGPT: "only forward the lm_head
 * on the very last position"), for vocabulary ids [v0, v1) (a shard, when the head is split
 * across workers; default all), which is vocabulary part `part` of the head. Returns m;
 * ws.logits holds [m, V], ws.logitRows the batch row of each, and ws.argIdx/argMax row p·M + r
 * the first index (in the whole vocabulary) of row r's largest logit within the part, and that logit.
 */
export function head(ctx: ForwardContext, n: number, v0 = 0, v1 = ctx.config.vocabSize, part = 0): number {
  const m = headInput(ctx, n);
  headLogits(ctx, m, v0, v1, part);
  return m;
}

/** Gathers the rows that need logits and applies ln_f: ws.headIn [m, C]. Returns m. */
export function headInput(ctx: ForwardContext, n: number): number {
  const { ws, weights, config: c, kernels: K } = ctx, C = c.nEmbd;
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (!ws.needsLogits[r]) continue;
    ws.logitRows[m] = r;
    for (let i = 0; i < C; i++) ws.headIn[m * C + i] = ws.x[r * C + i];  // gather [m, C]
    m++;
  }
  K.layernorm(ws.headIn, ws.headIn, weights.lnfW!, weights.lnfB!, m, C, c.layerNormEps); // [m, C]
  return m;
}

/** Logits of vocabulary ids [v0, v1) for the m rows in ws.headIn, as head part `part`. */
export function headLogits(ctx: ForwardContext, m: number, v0: number, v1: number, part: number): void {
  const { ws, weights, config: c, kernels: K } = ctx;
  const C = c.nEmbd, V = c.vocabSize, Vs = v1 - v0;
  const M = ws.maxLogitRows, idx = ws.argIdx.subarray(part * M, part * M + m), max = ws.argMax.subarray(part * M, part * M + m);
  if (Vs === V) {
    K.lmHead(ws.logits, ws.headIn, weights.wte!, m, C, V);                // [m, C] -> [m, V]
    K.rowArgmax(idx, max, ws.logits, m, V);                               // [m, V] -> [m]
  } else {
    const wteShard = weights.wte!.subarray(v0 * C, v1 * C);              // [Vs, C]
    K.lmHead(ws.shard, ws.headIn, wteShard, m, C, Vs);                    // [m, C] -> [m, Vs]
    K.rowArgmax(idx, max, ws.shard, m, Vs);                               // [m, Vs] -> [m], while the shard is in cache
    for (let r = 0; r < m; r++) {
      idx[r] += v0;
      ws.logits.set(ws.shard.subarray(r * Vs, (r + 1) * Vs), r * V + v0); // scatter
    }
  }
}

/** The whole model in one call: embeddings, every layer, head. */
export function forward(ctx: ForwardContext, n: number): number {
  embed(ctx, n);
  blocks(ctx, n, 0, ctx.config.nLayer);
  return head(ctx, n);
}
