// The forward pass of every family over a flat ragged batch: calls kernels only, no math of its
// own (llm.c gpt2_forward, nanoGPT Block). What a family changes is data in ModelConfig (norm,
// positions, MLP, biases, head) chosen at op level by norm()/activate(); the loop is one. Split
// into embed / blocks / head so that a pipeline stage runs its part, whole or as one
// tensor-parallel rank (model/tensor-parallel.ts: a rank computes its columns of each linear).
//
// Legend: n = rows in the batch, m = rows that need logits, C = hidden, W = q|k|v width,
// QD = NH·D, I = MLP width, U = I or 2I (SwiGLU gate|up), V = vocab. Residual stream: ws.x [n, C].
import type { KernelSet } from '../kernels/names.js';
import { q8Blocks } from '../kernels/quant.js';
import type { KvStore } from '../kv/kv-store.js';
import { qkvDims, type ModelConfig } from './config.js';
import type { ModelWeights, NormWeights } from './param-layout.js';
import { linear, rankShares, shareOf, type TensorPart } from './tensor-parallel.js';
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

/** ws.x = wte[tokens] (+ wpe[positions])   [n] → [n, C]; a tensor part embeds its rows only. */
export function embed(ctx: ForwardContext, n: number, part: TensorPart): void {
  const { ws, weights, config } = ctx, C = config.nEmbd;
  const [r0, r1] = shareOf(n, part.rank, part.size);
  const t = weights.wte!, x = ws.x.subarray(r0 * C), tok = ws.tokens.subarray(r0), pos = ws.positions.subarray(r0);
  if (t.kind === 'f32') ctx.kernels.embedding(x, tok, pos, t.w, weights.wpe, r1 - r0, C);
  else ctx.kernels.embeddingQ8(x, tok, pos, t.q, t.s, weights.wpe, r1 - r0, C);
}

/** LayerNorm or RMSNorm, as the family says.   [n, C] → [n, C] */
function norm(ctx: ForwardContext, out: Float32Array, inp: Float32Array, nw: NormWeights, n: number): void {
  const { kernels: K, config: c } = ctx;
  if (c.norm === 'layernorm') K.layernorm(out, inp, nw.w, nw.b!, n, c.nEmbd, c.normEps);
  else K.rmsnorm(out, inp, nw.w, n, c.nEmbd, c.normEps);
}

/** The MLP activation on my columns [i0, i1): GELU of fc in place, or fc = silu(gate) · up from gu.   → ws.fc [n, I] */
function activate(ctx: ForwardContext, n: number, i0: number, i1: number): void {
  const { kernels: K, config: c, ws } = ctx, I = c.nInner;
  if (c.mlp === 'swiglu') K.swiglu(ws.fc, ws.gu, n, I, i0, i1);
  else K.gelu(ws.fc, ws.fc, n * I, I, i0, i1);
}

/**
 * Runs layers [l0, l1) on ws.x in place; writes each row's K/V into its cache slot. With a
 * tensor part of several ranks this is one rank's share, and ws.att and ws.fc must be shared by
 * the ranks (the rest of ws is private) and the layers' linear weights sharded. Each rank
 * normalizes every row itself (cheap) rather than waiting for the others' rows, so a layer
 * needs four barriers. On return x is complete (every rank's columns).
 */
export function blocks(ctx: ForwardContext, n: number, l0: number, l1: number, part: TensorPart): void {
  const { ws, kernels: K, config: c, kv, weights } = ctx, D = c.headDim, { q: QD, kv: KD } = qkvDims(c);
  const { heads: [h0, h1], kvHeads: [g0, g1], cCols: [c0, c1], iCols: [i0, i1] } = rankShares(c, part.rank, part.size);
  const mlpIn = c.mlp === 'swiglu' ? ws.gu : ws.fc;
  for (let l = l0; l < l1; l++) {
    const w = weights.layers[l - weights.layout.stage.layerStart], lin = part.layers[l - l0]; // part: layers l0..l1
    const kCache = kv.k[l - kv.layerStart], vCache = kv.v[l - kv.layerStart];
    norm(ctx, ws.h, ws.x, w.norm1, n);                                   // [n, C]
    linear(K, ws.qkv, ws.h, lin.qkv, n, ws);                              // [n, C] -> [n, W], my heads
    if (weights.rope) {                                                   // q, k of my heads rotated in place
      K.rope({ qkv: ws.qkv, positions: ws.positions, cos: weights.rope.cos, sin: weights.rope.sin, n, nHead: c.nHead,
        nKvHead: c.nKvHead, headDim: D, qNorm: w.qNorm, kNorm: w.kNorm, eps: c.normEps, h0, h1 });
    }
    K.kvWrite(ws.qkv, kCache, vCache, ws.slots, n, QD, KD, g0 * D, g1 * D); // k, v -> cache slots (a group shared with a neighbour rank: both write the same bytes)
    K.attention({                                                         // [n, W] -> [n, QD]
      out: ws.att, qkv: ws.qkv, kCache, vCache, seqIds: ws.seqIds, positions: ws.positions,
      blockTable: ctx.blockTable, maxBlocksPerSeq: ctx.maxBlocksPerSeq, blockSize: kv.blockSize,
      n, nHead: c.nHead, nKvHead: c.nKvHead, headDim: D, window: c.window, scratch: ws.scratch, h0, h1,
    });
    part.barrier();                                                       // att complete
    linear(K, ws.proj, ws.att, lin.o, n, ws);                             // [n, QD] -> [n, C], my columns
    K.residual(ws.x, ws.x, ws.proj, n * c.nEmbd, c.nEmbd, c0, c1);      // x += attn, my columns
    part.barrier();                                                       // x complete
    norm(ctx, ws.h, ws.x, w.norm2, n);                                   // [n, C]
    linear(K, mlpIn, ws.h, lin.up, n, ws);                                // [n, C] -> [n, U]
    activate(ctx, n, i0, i1);                                             // -> fc [n, I]
    part.barrier();                                                       // fc complete
    linear(K, ws.proj, ws.fc, lin.down, n, ws);                           // [n, I] -> [n, C]
    K.residual(ws.x, ws.x, ws.proj, n * c.nEmbd, c.nEmbd, c0, c1);      // x += mlp, my columns
    part.barrier();                                                       // x complete
  }
}

/**
 * The final norm and the LM head, only for rows with needsLogits (nanoGPT: "only forward the
 * lm_head on the very last position"), for vocabulary ids [v0, v1) (a shard, when the head is
 * split across workers; default all), which is vocabulary part `part` of the head. Returns m;
 * ws.logits holds [m, V], ws.logitRows the batch row of each, and ws.argIdx/argMax row p·M + r
 * the first index (in the whole vocabulary) of row r's largest logit within the part, and that logit.
 */
export function head(ctx: ForwardContext, n: number, v0 = 0, v1 = ctx.config.vocabSize, part = 0): number {
  const m = headInput(ctx, n);
  headLogits(ctx, m, v0, v1, part);
  return m;
}

/** Gathers the rows that need logits and applies the final norm: ws.headIn [m, C] (and, int8 head, ws.xq / xd). Returns m. */
export function headInput(ctx: ForwardContext, n: number): number {
  const { ws, weights, config: c } = ctx, C = c.nEmbd;
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (!ws.needsLogits[r]) continue;
    ws.logitRows[m] = r;
    for (let i = 0; i < C; i++) ws.headIn[m * C + i] = ws.x[r * C + i];  // gather [m, C]
    m++;
  }
  norm(ctx, ws.headIn, ws.headIn, weights.normF!, m);                    // [m, C]
  if (weights.head!.kind === 'q8') ctx.kernels.quantizeRowsQ8(ws.xq, ws.xd, ws.headIn, m, C); // once for every vocabulary piece
  return m;
}

/** Logits of vocabulary ids [v0, v1) for the m rows headInput left in ws.headIn (an int8 head: in ws.xq / xd), as head part `part`. */
export function headLogits(ctx: ForwardContext, m: number, v0: number, v1: number, part: number): void {
  const { ws, config: c, kernels: K } = ctx;
  const V = c.vocabSize, Vs = v1 - v0;
  const M = ws.maxLogitRows, idx = ws.argIdx.subarray(part * M, part * M + m), max = ws.argMax.subarray(part * M, part * M + m);
  const h = ctx.weights.head!, C = c.nEmbd;
  if (h.kind === 'f32') {                                                 // [m, C] -> columns [v0, v1) of logits [m, V]
    K.lmHead(ws.logits.subarray(v0), ws.headIn, h.w.subarray(v0 * C, v1 * C), m, C, Vs, V);
  } else {
    const nb = q8Blocks(C);
    K.matmulQ8Rows(ws.logits, ws.xq, ws.xd, h.q.subarray(v0 * C, v1 * C), h.s.subarray(v0 * nb, v1 * nb), null, m, C, V, v0, v1);
  }
  K.rowArgmax(idx, max, ws.logits.subarray(v0), m, Vs, V);                // [m, Vs] (row stride V) -> [m]
  for (let r = 0; r < m; r++) idx[r] += v0;                              // piece index -> vocabulary id
}

/** The whole model in one call (one thread): embeddings, every layer, head. */
export function forward(ctx: ForwardContext, n: number, part: TensorPart): number {
  embed(ctx, n, part);
  blocks(ctx, n, 0, ctx.config.nLayer, part);
  return head(ctx, n);
}
