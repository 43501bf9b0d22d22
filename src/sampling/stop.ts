// Decides when a sequence ends, on ids and on decoded text. Stop strings are matched on the
// text decoded so far, so a stop string split across two (or more) tokens is still caught.
import type { SamplingParams } from './params.js';

export type FinishReason = 'stop' | 'length';

export interface StopResult {
  finish: FinishReason;
  stopReason: string | number | null; // the matched stop string or stop token id (null for EOS / length)
}

export class StopChecker {
  private readonly maxStopLen: number;
  constructor(private readonly p: SamplingParams, private readonly eosIds: readonly number[]) {
    this.maxStopLen = Math.max(0, ...p.stop.map((s) => s.length));
  }

  /** Checks the ids: EOS (unless ignore_eos) and stop_token_ids. */
  checkToken(id: number): StopResult | null {
    if (this.p.stop_token_ids.includes(id)) return { finish: 'stop', stopReason: id };
    if (!this.p.ignore_eos && this.eosIds.includes(id)) return { finish: 'stop', stopReason: null };
    return null;
  }

  /**
   * Looks for a stop string that ends inside the text added since `prevLen`. Returns the length
   * the text is cut to (the match start, or its end with include_stop_str_in_output) and the match.
   */
  checkText(text: string, prevLen: number): { cut: number; stop: string } | null {
    if (this.maxStopLen === 0) return null;
    const from = Math.max(0, prevLen - this.maxStopLen + 1);
    let best: { at: number; stop: string } | null = null;
    for (const s of this.p.stop) {
      const at = text.indexOf(s, from);
      if (at >= 0 && (best === null || at < best.at)) best = { at, stop: s };
    }
    if (!best) return null;
    return { cut: this.p.include_stop_str_in_output ? best.at + best.stop.length : best.at, stop: best.stop };
  }
}
