// One choice of one request as it runs: its ids, how many sit in the KV cache, its sampling
// state and the text decoded so far. Appending a token applies every stop rule.
import { type SamplingParams } from '../sampling/params.js';
import { RequestRng } from '../sampling/rng.js';
import type { SampledToken, SequenceSamplingState } from '../sampling/sampler.js';
import { StopChecker, type FinishReason } from '../sampling/stop.js';
import type { StreamDecoder, Tokenizer } from '../tokenizer/types.js';
import type { Constraint } from '../structured/grammars.js';
import type { Choice, LogprobEntry } from './types.js';

export class Sequence {
  readonly tokens: number[];          // prompt + generated
  numComputed = 0;                    // tokens whose K/V are in the cache  } written by the
  slot = -1;                          // KV block-table row while admitted  } scheduler only
  text = '';
  finish: FinishReason | null = null;
  isolate = false;                    // run alone next: its micro-batch failed (scheduler only)
  numCachedTokens?: number;           // prompt tokens shared at first admission (scheduler only)
  forkOf: Sequence | null = null;     // n > 1: choice 0, whose prompt rows this choice shares
  stopReason: string | number | null = null;
  /** The grammar its output follows (structured outputs): its mask is for the next token. */
  constraint: Constraint | null = null;
  /** Set when the grammar refused a sampled token (the mask allowed it: an internal error). */
  grammarRejected = false;
  readonly logprobs: LogprobEntry[] | null;
  readonly sampling: SequenceSamplingState;
  private readonly decoder: StreamDecoder;
  private readonly stop: StopChecker;

  constructor(
    readonly choice: number,
    readonly promptLen: number,
    prompt: readonly number[],
    readonly params: SamplingParams,
    readonly requestId: string,
    engineSeed: number,
    private readonly tok: Tokenizer,
    private readonly eosIds: readonly number[],
  ) {
    this.tokens = [...prompt];
    this.sampling = {
      params,
      rng: new RequestRng(params.seed ?? engineSeed, requestId, choice),
      seen: new Set(prompt),
      outputCounts: new Map(),
    };
    this.decoder = tok.streamDecoder();
    this.stop = new StopChecker(params, eosIds);
    this.logprobs = params.logprobs === null ? null : [];
  }

  get numTokens(): number { return this.tokens.length; }
  get numGenerated(): number { return this.tokens.length - this.promptLen; }
  get maxTotalTokens(): number { return this.promptLen + this.params.max_tokens; }

  /** Adds a sampled token and decides whether the sequence is done. */
  append(s: SampledToken): void {
    const id = s.token;
    if (this.constraint !== null && !this.constraint.accept(id)) {
      this.grammarRejected = true;
      return;
    }
    this.tokens.push(id);
    this.sampling.seen.add(id);
    this.sampling.outputCounts.set(id, (this.sampling.outputCounts.get(id) ?? 0) + 1);
    if (this.logprobs && s.logprob !== null) {
      this.logprobs.push({
        token_id: id, token: this.tok.tokenText(id), logprob: s.logprob,
        top_logprobs: (s.top ?? []).map((t) => ({ ...t, token: this.tok.tokenText(t.token_id) })),
      });
    }
    const byId = this.stop.checkToken(id);
    // EOS and other special tokens (<|eot_id|>, <|im_end|>) are never part of the text (vLLM skip_special_tokens)
    if (!this.tok.isSpecial(id) && !this.eosIds.includes(id)) {
      const prevLen = this.text.length;
      this.text += this.decoder.push(id);
      const hit = this.stop.checkText(this.text, prevLen);
      if (hit && !byId) return this.end('stop', hit.stop, hit.cut);
    }
    if (byId) return this.end(byId.finish, byId.stopReason);
    // the grammar took its stop token (EOS, so stop_reason null as for EOS): complete, whatever ignore_eos says
    if (this.constraint?.terminated) return this.end('stop', null);
    if (this.numGenerated >= this.params.max_tokens) this.end('length', null);
  }

  private end(finish: FinishReason, reason: string | number | null, cut?: number): void {
    this.finish = finish;
    this.stopReason = reason;
    this.text = cut === undefined ? this.text + this.decoder.flush() : this.text.slice(0, cut);
  }

  toChoice(): Choice {
    return {
      index: this.choice, text: this.text, token_ids: this.tokens.slice(this.promptLen),
      finish_reason: this.finish ?? 'length', stop_reason: this.stopReason, logprobs: this.logprobs,
    };
  }
}
