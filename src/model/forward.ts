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

/** ws.x = wte[tokens] + wpe[positions]   [n] → [n, C] */
export function embed(ctx: ForwardContext, n: number): void {
  const { ws, weights, config } = ctx;
  ctx.kernels.embedding(ws.x, ws.tokens, ws.positions, weights.wte!, weights.wpe!, n, config.nEmbd);
}

/** Runs layers [l0, l1) on ws.x in place; writes each row's K/V into its cache slot. */
export function blocks(ctx: ForwardContext, n: number, l0: number, l1: number): void {
  const { ws, kernels: K, config: c, kv } = ctx;
  const C = c.nEmbd, I = c.nInner;
  for (let l = l0; l < l1; l++) {
    const w = ctx.weights.layers[l - ctx.weights.layout.stage.layerStart];
    const kCache = kv.k[l - kv.layerStart], vCache = kv.v[l - kv.layerStart];
    K.layernorm(ws.h, ws.x, w.ln1W, w.ln1B, n, C, c.layerNormEps);       // [n, C]
    K.matmul(ws.qkv, ws.h, w.attnW, w.attnB, n, C, 3 * C);               // [n, C] -> [n, 3C]
    K.kvWrite(ws.qkv, kCache, vCache, ws.slots, n, C);                    // k, v -> cache slots
    K.attention({                                                         // [n, 3C] -> [n, C]
      out: ws.att, qkv: ws.qkv, kCache, vCache, seqIds: ws.seqIds, positions: ws.positions,
      blockTable: ctx.blockTable, maxBlocksPerSeq: ctx.maxBlocksPerSeq, blockSize: kv.blockSize,
      n, nHead: c.nHead, C, scratch: ws.scratch,
    });
    K.matmul(ws.proj, ws.att, w.attnProjW, w.attnProjB, n, C, C);         // [n, C] -> [n, C]
    K.residual(ws.x, ws.x, ws.proj, n * C);                               // x += attn
    K.layernorm(ws.h, ws.x, w.ln2W, w.ln2B, n, C, c.layerNormEps);       // [n, C]
    K.matmul(ws.fc, ws.h, w.fcW, w.fcB, n, C, I);                         // [n, C] -> [n, I]
    K.gelu(ws.fc, ws.fc, n * I);                                          // [n, I]
    K.matmul(ws.proj, ws.fc, w.fcProjW, w.fcProjB, n, I, C);              // [n, I] -> [n, C]
    K.residual(ws.x, ws.x, ws.proj, n * C);                               // x += mlp
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
