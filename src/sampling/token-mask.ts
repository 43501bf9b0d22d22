// Applying a grammar's next-token bitmask (xgrammar's layout: Int32 words, bit i of word j is
// token 32·j + i, 1 = allowed) to a row of logits. The word-wise path is what the sampler runs;
// the per-token reference is what it is tested against, bit for bit.

/** w[i] = -Infinity where token i is not allowed. Words of all-allowed are skipped, all-banned filled at once. */
export function applyTokenMask(w: Float32Array, mask: Int32Array): void {
  const V = w.length;
  for (let j = 0, i = 0; i < V; j++, i += 32) {
    const m = mask[j];
    if (m === -1) continue;
    const end = i + 32 < V ? i + 32 : V;
    if (m === 0) {
      w.fill(-Infinity, i, end);
      continue;
    }
    for (let b = i; b < end; b++) if (((m >>> (b - i)) & 1) === 0) w[b] = -Infinity;
  }
}

/** One token at a time: the definition applyTokenMask must match. */
export function applyTokenMaskReference(w: Float32Array, mask: Int32Array): void {
  for (let i = 0; i < w.length; i++) if (((mask[i >> 5] >>> (i & 31)) & 1) === 0) w[i] = -Infinity;
}

/**
 * The first allowed id with the largest logit in logits[offset .. offset+V), reading only allowed
 * ids (greedy rows need no copy of the row); -1 when every allowed logit is -Infinity or NaN.
 */
export function maskedArgmax(logits: Float32Array, offset: number, V: number, mask: Int32Array): number {
  let best = -1, bv = -Infinity;
  for (let j = 0, i = 0; i < V; j++, i += 32) {
    let m = mask[j];
    while (m !== 0) {
      const b = 31 - Math.clz32(m & -m); // lowest set bit: ids in increasing order
      m &= m - 1;
      const id = i + b;
      if (id >= V) break;
      const v = logits[offset + id];
      if (v > bv) { bv = v; best = id; }
    }
  }
  return best;
}
