// The op set every kernel backend implements (tfjs kernel_names.ts). Each op writes into
// caller-owned memory (llm.c style) and allocates nothing; a row's result never depends on the
// other rows in the call (fixed reduction order per row), so batches are invariant.
//
// Legend: n = rows (tokens) in the flat ragged batch, C = hidden width, NH = query heads,
// NKV = key/value heads (NH for GPT-2; fewer with grouped-query attention), D = head width,
// W = (NH + 2·NKV)·D = one row of fused q|k|v, I = input width, O = output width,
// V = vocab_size, m = rows that need logits, P = positions (context length).
//
// Linear weights are stored [I, O] (in × out, HF Conv1D / GPT-2 order; nn.Linear checkpoints are
// transposed once at load), so every matmul is out = inp · w (+ bias).

export const OPS = [
  'embedding', 'layernorm', 'rmsnorm', 'matmul', 'gelu', 'swiglu', 'residual', 'rope', 'kvWrite', 'attention',
  'lmHead', 'logSoftmax', 'rowArgmax', 'matmulQ8', 'quantizeRowsQ8', 'matmulQ8Rows', 'matmul16', 'embeddingQ8',
] as const;
export type OpName = (typeof OPS)[number];

/**
 * A layer's K or V cache [nSlots, NKV·D]: f32, IEEE f16 bits (kv_cache_dtype float16) or Q8 rows
 * (kv_cache_dtype int8: per slot NKV·D/32 blocks of 36 bytes, quant.ts; NKV·D and every channel
 * range a multiple of 32). The array type is the cache's element type: kvWrite rounds into a
 * Uint16Array (to nearest even, overflow → ±inf, subnormals kept) or quantizes into an Int8Array
 * (finite values), attention reads each value back as f32 (f16 exactly; q8 as f32(q·d)), so
 * attention over an f16 or q8 cache gives the bits of attention over an f32 cache holding the
 * values read back. K and V of a call have the same type.
 */
export type KvCache = Float32Array | Uint16Array | Int8Array;

export interface AttentionArgs {
  out: Float32Array;        // [n, NH·D]
  qkv: Float32Array;        // [n, W]  q heads | k heads | v heads per row
  kCache: KvCache;          // [nSlots, NKV·D] this layer's keys, slot = block · blockSize + offset
  vCache: KvCache;          // [nSlots, NKV·D] this layer's values
  seqIds: Int32Array;       // [n] row → sequence slot (row of blockTable)
  positions: Int32Array;    // [n] row → position; the row attends to positions 0..pos of its sequence
  blockTable: Int32Array;   // [maxSeqs, maxBlocksPerSeq] block ids
  maxBlocksPerSeq: number;
  blockSize: number;
  n: number;
  nHead: number;            // NH; query head h reads key/value head floor(h / (NH / NKV))
  nKvHead: number;          // NKV (divides NH)
  headDim: number;          // D; scores are scaled by 1/√D
  window: number;           // sliding window: attend only to positions t > pos - window (0 = no window)
  scratch: Float32Array;    // [≥ max position + 1] attention scores of one row and head
  h0?: number;              // query heads [h0, h1) only (default all; any range, a KV group may be split):
  h1?: number;              //   out columns [h0·D, h1·D) are written, nothing else (a tensor-parallel rank's share)
}

export interface RopeArgs {
  qkv: Float32Array;        // [n, W] rotated in place: the q heads and the k heads of each row
  positions: Int32Array;    // [n]
  cos: Float32Array;        // [P, D/2] cos(pos · inv_freq[i]), built once at load (scaling folded into inv_freq)
  sin: Float32Array;        // [P, D/2]
  n: number;
  nHead: number;            // NH
  nKvHead: number;          // NKV
  headDim: number;          // D (even)
  qNorm: Float32Array | null; // [D] Qwen3: RMSNorm each q head with these weights before rotating (null: none)
  kNorm: Float32Array | null; // [D] the same for each k head
  eps: number;              // of qNorm / kNorm
  h0?: number;              // query heads [h0, h1) and the key heads they read, [⌊h0/G⌋, ⌈h1/G⌉) with G = NH/NKV,
  h1?: number;              //   only (default all; a tensor-parallel rank's share); nothing else is written
}

export interface KernelSet {
  /** out[r] = wte[tokens[r]] (+ wpe[positions[r]] when wpe is given)   [n] → [n, C] */
  embedding(out: Float32Array, tokens: Int32Array, positions: Int32Array, wte: Float32Array, wpe: Float32Array | null, n: number, C: number): void;
  /** Row-wise LayerNorm with biased variance.   [n, C] → [n, C] */
  layernorm(out: Float32Array, inp: Float32Array, w: Float32Array, b: Float32Array, n: number, C: number, eps: number): void;
  /**
   * Row-wise RMSNorm (HF LlamaRMSNorm): s = 1/√(Σx²/C + eps), sum of squares in f64 in index
   * order; out = w · (x · s), each product rounded to f32.   [n, C] → [n, C]; out may alias inp.
   */
  rmsnorm(out: Float32Array, inp: Float32Array, w: Float32Array, n: number, C: number, eps: number): void;
  /**
   * out = inp · w + bias (bias null: none), w stored [I, O].   [n, I] → [n, O]
   * With [j0, j1) (a tensor-parallel rank's share): w is that column shard, contiguous
   * [I, j1 - j0], bias is still all [O], and only out columns j0..j1-1 are written, each element
   * by the same arithmetic as in the full call.
   */
  matmul(out: Float32Array, inp: Float32Array, w: Float32Array, bias: Float32Array | null, n: number, I: number, O: number, j0?: number, j1?: number): void;
  /**
   * tanh-approximation GELU, elementwise; out may alias inp. With W and [j0, j1) (a tensor-parallel
   * rank's columns): inp and out are len / W rows of W, and only columns j0..j1-1 of each row are written.
   */
  gelu(out: Float32Array, inp: Float32Array, len: number, W?: number, j0?: number, j1?: number): void;
  /**
   * SwiGLU: out[r, j] = silu(gu[r, j]) · gu[r, I + j], silu(g) = g / (1 + e^-g).   [n, 2I] → [n, I]
   * With [j0, j1): only out columns j0..j1-1 are written (a tensor-parallel rank's share).
   */
  swiglu(out: Float32Array, gu: Float32Array, n: number, I: number, j0?: number, j1?: number): void;
  /** out = a + b elementwise; out may alias a. With W and [j0, j1): only those columns of len / W rows of W, as gelu. */
  residual(out: Float32Array, a: Float32Array, b: Float32Array, len: number, W?: number, j0?: number, j1?: number): void;
  /**
   * Rotary position embedding, HF rotate_half pairing (i with i + D/2): for each head x of a row at
   * position p, with c = cos[p, i], s = sin[p, i]: x[i] ← x[i]·c − x[i+D/2]·s, x[i+D/2] ← x[i+D/2]·c + x[i]·s.
   */
  rope(a: RopeArgs): void;
  /**
   * Copies each row's k and v (channels [c0, c1) of NKV·D, default all) into its cache slot:
   * qkv row r holds k at [qDim, qDim + kvDim) and v at [qDim + kvDim, qDim + 2·kvDim); an f16
   * cache (Uint16Array) gets each value rounded to f16, a q8 cache (Int8Array) each 32-channel
   * block quantized (KvCache).   [n, W] → kCache/vCache[slots[r]]
   */
  kvWrite(qkv: Float32Array, kCache: KvCache, vCache: KvCache, slots: Int32Array, n: number, qDim: number, kvDim: number, c0?: number, c1?: number): void;
  /**
   * Causal (optionally sliding-window) grouped-query attention over the paged KV cache (the rows' own
   * k/v already written; f32 or f16, see KvCache).   [n, W] → [n, NH·D]
   */
  attention(a: AttentionArgs): void;
  /**
   * LM head: out = inp · wᵀ, w stored [V, C] (the tied embedding, or an untied lm_head, or V of its
   * rows). Row r of out is out[r·ldo, r·ldo + V) (ldo ≥ V, default V: a column range of wider
   * rows, such as one vocabulary piece of the logits written in place).   [m, C] → [m, V] (row stride ldo)
   */
  lmHead(out: Float32Array, inp: Float32Array, w: Float32Array, m: number, C: number, V: number, ldo?: number): void;
  /** Row-wise log-softmax.   [m, V] → [m, V]; out may alias inp. */
  logSoftmax(out: Float32Array, inp: Float32Array, m: number, V: number): void;
  /**
   * Per row: idx[r] = the first index of the largest value, max[r] = that value (V ≥ 1). Exactly
   * `best = x[0]; for i ≥ 1 if (x[i] > best) take i`: NaN is never greater, and a row that starts
   * with NaN gives (NaN, 0). Greedy decoding reads the head's result instead of the whole row.
   * Row r is inp[r·ld, r·ld + V) (ld ≥ V, default V: a column range of wider rows, such as one
   * vocabulary piece of the logits written in place).   [m, V] (row stride ld) → [m]
   */
  rowArgmax(idx: Int32Array, max: Float32Array, inp: Float32Array, m: number, V: number, ld?: number): void;
  /**
   * 8-bit weights (format: src/kernels/quant.ts quantizeQ8), nn.Linear orientation: wq [O, I] int8,
   * ws [O, nb] f32, nb = ceil(I/32). Each row of inp is quantized per 32-block exactly like
   * quantizeQ8 (xq, xd; per row), then, with S_b = Σ_{k∈b} xq[r,k]·wq[j,k] (int32, exact):
   *   s = 0; for b = 0..nb-1 in order: s = s + f32(f32(xd[r,b]·ws[j,b]) · f32(S_b))   (f32, no FMA)
   *   out[r, j] = bias ? f32(bias[j] + s) : s.   [n, I] → [n, O]
   * Bit-identical on every backend path (reference included) and for every n. With [j0, j1): wq and
   * ws are those rows only ([j1-j0, I], [j1-j0, nb]), bias is all [O], only out columns j0..j1-1 are
   * written. The LM head uses it with w = [V, C] and bias null.
   */
  matmulQ8(out: Float32Array, inp: Float32Array, wq: Int8Array, ws: Float32Array, bias: Float32Array | null, n: number, I: number, O: number, j0?: number, j1?: number): void;
  /**
   * matmulQ8's first half: the rows of inp [n, I] quantized exactly as quantizeQ8(xq, xd, inp, n, I)
   * (quant.ts): xq [n, I] int8, xd [n, ceil(I/32)].
   */
  quantizeRowsQ8(xq: Int8Array, xd: Float32Array, inp: Float32Array, n: number, I: number): void;
  /**
   * matmulQ8's second half: matmulQ8(out, inp, …) gives exactly the bits of quantizeRowsQ8(xq, xd,
   * inp, n, I) then this. A linear stored in several weight blocks (a tensor-parallel rank's q|k|v
   * heads, SwiGLU gate|up, the head's vocabulary pieces) quantizes its input once.
   */
  matmulQ8Rows(out: Float32Array, xq: Int8Array, xd: Float32Array, wq: Int8Array, ws: Float32Array, bias: Float32Array | null, n: number, I: number, O: number, j0?: number, j1?: number): void;
  /**
   * matmul with 16-bit weights: w [I, O] (a range: the column shard [I, j1-j0]) of bf16 or IEEE f16
   * bits. Every element is exactly what `matmul` gives on the same backend for the f32 values of w.
   */
  matmul16(out: Float32Array, inp: Float32Array, w: Uint16Array, kind: 'bf16' | 'f16', bias: Float32Array | null, n: number, I: number, O: number, j0?: number, j1?: number): void;
  /**
   * The int8 embedding: out[r] = the Q8 row tokens[r] of wq [V, C] / ws [V, ceil(C/32)] dequantized,
   * f32(q · d) (quant.ts), (+ wpe[positions[r]] when wpe is given, one f32 add): with int8 weights
   * the lookup reads the LM head's quantized rows instead of an f32 copy of the table.   [n] → [n, C]
   */
  embeddingQ8(out: Float32Array, tokens: Int32Array, positions: Int32Array, wq: Int8Array, ws: Float32Array, wpe: Float32Array | null, n: number, C: number): void;
}
