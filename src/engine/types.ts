// What callers hand the engine and get back (OpenAI completion shapes, vLLM field names).
import type { RequestErrorCode } from '../errors.js';
import type { FinishReason } from '../sampling/stop.js';
import type { ChatMessage } from '../tokenizer/types.js';

// Exactly one of prompt / prompt_token_ids / messages.
export interface GenerateRequest {
  id: string;
  prompt?: string;                   // text, tokenized by the model's tokenizer
  prompt_token_ids?: number[];       // or ids directly
  messages?: ChatMessage[];          // or a conversation, rendered by the model's chat template
  sampling?: Record<string, unknown>; // vLLM SamplingParams fields; defaults fill the rest
  allow_special?: boolean;           // treat "<|endoftext|>" in prompt text as the special token
}

export interface LogprobEntry {
  token_id: number;
  token: string;
  logprob: number;
  top_logprobs: Array<{ token_id: number; token: string; logprob: number }>;
}

export interface Choice {
  index: number;
  text: string;
  token_ids: number[];               // generated ids only
  finish_reason: FinishReason;
  stop_reason: string | number | null;
  logprobs: LogprobEntry[] | null;
}

export interface Completion {
  id: string;
  prompt_token_ids: number[];
  choices: Choice[];
  error: RequestFailure | null;      // set when the request failed; choices is then empty
  /** Prompt tokens whose KV rows came from the prefix cache, not computed (usage.prompt_tokens_details.cached_tokens). Metadata: it may differ between runs and layouts; the tokens never do. */
  num_cached_tokens: number;
}

/** Why a request failed: a typed code and a message naming the request and the numbers involved. */
export interface RequestFailure {
  code: RequestErrorCode;
  message: string;
}
