// A pure scheduler (vLLM v1 rule): there is no prefill or decode phase. Each running sequence has
// numComputed tokens in the KV cache out of numTokens known; a step gives each, in order, as many
// tokens as close its gap, within the step's token budget. Touches no tensors; tested alone.

export interface SchedulableSeq {
  numComputed: number;
  numTokens: number;
}

export interface ScheduleLimits {
  maxBatchedTokens: number; // rows per step
  maxLogitRows: number;     // sequences that may reach their end (and sample) in one step
}

/** Tokens to run this step for each sequence, in the order given (0 = skipped this step). */
export function schedule(seqs: readonly SchedulableSeq[], limits: ScheduleLimits): number[] {
  let budget = limits.maxBatchedTokens, logitRows = limits.maxLogitRows;
  return seqs.map((s) => {
    const gap = s.numTokens - s.numComputed;
    if (gap <= 0 || budget === 0) return 0;
    const k = Math.min(gap, budget);
    if (k === gap) {
      // this chunk reaches the end of the sequence, so its last row needs logits
      if (logitRows === 0) return 0;
      logitRows--;
    }
    budget -= k;
    return k;
  });
}
