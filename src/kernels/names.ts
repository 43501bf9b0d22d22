// The op set every kernel backend implements (tfjs kernel_names.ts). Each op writes into
// caller-owned memory (llm.c style) and allocates nothing; a row's result never depends on the
// other rows in the call (fixed reduction order per row), so batches are invariant.
//
// Legend: n = rows (tokens) in the flat ragged batch, C = n_embd, NH = n_head, D = C / NH,
// I = input width, O = output width, V = vocab_size, m = rows that need logits.

export const OPS = ['embedding', 'layernorm', 'matmul', 'gelu', 'residual', 'kvWrite', 'attention', 'lmHead', 'logSoftmax', 'rowArgmax'] as const;
export type OpName = (typeof OPS)[number];

export interface AttentionArgs {
  out: Float32Array;        // [n, C]
  qkv: Float32Array;        // [n, 3C]  q|k|v per row
  kCache: Float32Array;     // [nSlots, C] this layer's keys, slot = block * blockSize + offset
  vCache: Float32Array;     // [nSlots, C] this layer's values
  seqIds: Int32Array;       // [n] row → sequence slot (row of blockTable)
  positions: Int32Array;    // [n] row → position; the row attends to positions 0..pos of its sequence
  blockTable: Int32Array;   // [maxSeqs, maxBlocksPerSeq] block ids
  maxBlocksPerSeq: number;
  blockSize: number;
  n: number;
  nHead: number;
  C: number;
  scratch: Float32Array;    // [≥ max position + 1] attention scores of one row and head
  h0?: number;              // heads [h0, h1) only (default all): out columns [h0·D, h1·D) are written,
  h1?: number;              //   nothing else (a tensor-parallel rank's share)
}

export interface KernelSet {
  /** out[r] = wte[tokens[r]] + wpe[positions[r]]   [n] → [n, C] */
  embedding(out: Float32Array, tokens: Int32Array, positions: Int32Array, wte: Float32Array, wpe: Float32Array, n: number, C: number): void;
  /** Row-wise LayerNorm with biased variance.   [n, C] → [n, C] */
  layernorm(out: Float32Array, inp: Float32Array, w: Float32Array, b: Float32Array, n: number, C: number, eps: number): void;
  /**
   * out = inp · w + bias, w stored [I, O] (HF Conv1D).   [n, I] → [n, O]
   * With [j0, j1) (a tensor-parallel rank's share): w is that column shard, contiguous
   * [I, j1 - j0], bias is still all [O], and only out columns j0..j1-1 are written, each element
   * by the same arithmetic as in the full call.
   */
  matmul(out: Float32Array, inp: Float32Array, w: Float32Array, bias: Float32Array, n: number, I: number, O: number, j0?: number, j1?: number): void;
  /** tanh-approximation GELU, elementwise; out may alias inp. */
  gelu(out: Float32Array, inp: Float32Array, len: number): void;
  /** out = a + b elementwise; out may alias a. */
  residual(out: Float32Array, a: Float32Array, b: Float32Array, len: number): void;
  /** Copies each row's k and v (channels [c0, c1), default all) into its cache slot.   [n, 3C] → kCache/vCache[slots[r]] */
  kvWrite(qkv: Float32Array, kCache: Float32Array, vCache: Float32Array, slots: Int32Array, n: number, C: number, c0?: number, c1?: number): void;
  /** Causal attention over the paged KV cache (the rows' own k/v already written).   [n, 3C] → [n, C] */
  attention(a: AttentionArgs): void;
  /** Tied LM head: out = inp · wteᵀ.   [m, C] → [m, V] */
  lmHead(out: Float32Array, inp: Float32Array, wte: Float32Array, m: number, C: number, V: number): void;
  /** Row-wise log-softmax.   [m, V] → [m, V]; out may alias inp. */
  logSoftmax(out: Float32Array, inp: Float32Array, m: number, V: number): void;
  /**
   * Per row: idx[r] = the first index of the largest value, max[r] = that value (V ≥ 1). Exactly
   * `best = x[0]; for i ≥ 1 if (x[i] > best) take i`: NaN is never greater, and a row that starts
   * with NaN gives (NaN, 0). Greedy decoding reads the head's result instead of the whole row.   [m, V] → [m]
   */
  rowArgmax(idx: Int32Array, max: Float32Array, inp: Float32Array, m: number, V: number): void;
}
