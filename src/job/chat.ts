// Chat requests in batch files: a /v1/chat/completions body (or a simple-JSONL line with
// "messages") becomes an engine request, and its answer an OpenAI `chat.completion` record.
// Kept apart from input.ts / output.ts, which only route to it.
import type { Choice, Completion, GenerateRequest, LogprobEntry } from '../engine/types.js';
import { clip } from '../errors.js';
import { MAX_LOGPROBS } from '../sampling/params.js';
import type { Tokenizer } from '../tokenizer/types.js';
import type { JobRecord } from './input.js';
import { answerRecord, type OutputRecord } from './output.js';

export const CHAT_URL = '/v1/chat/completions';

// not sampling parameters; every other body field is, as on the completions path
const NOT_SAMPLING = new Set(['model', 'messages', 'user', 'stream', 'custom_id']);
// OpenAI chat's spellings, translated below to SamplingParams' (logprobs: count, max_tokens)
const CHAT_ONLY = new Set(['logprobs', 'top_logprobs', 'max_completion_tokens']);

/**
 * A chat line's request. The messages' shape is checked by the engine (prepareRequest), so a bad
 * conversation gets the same error there as from the CLI or the library; here only the fields
 * whose meaning differs from a completions body.
 */
export function chatLine(n: number, customId: string, body: Record<string, unknown>): JobRecord {
  const err = (code: string, message: string): JobRecord => ({ n, customId, error: { code, message: `line ${n}: ${message}` } });
  if (body.prompt !== undefined) return err('invalid_request', `a chat request takes "messages", not "prompt" (prompts go to url "/v1/completions")`);
  if (body.messages === undefined) return err('invalid_request', 'a chat request needs "messages": an array of {"role", "content"}');
  const sampling: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!NOT_SAMPLING.has(k) && !CHAT_ONLY.has(k)) sampling[k] = v;
  const { logprobs, top_logprobs: top, max_completion_tokens: maxTokens } = body;
  if (logprobs !== undefined && logprobs !== null && typeof logprobs !== 'boolean') {
    return err('invalid_request', `logprobs must be true or false in a chat request (top_logprobs gives the count), got ${clip(JSON.stringify(logprobs))}`);
  }
  if (top !== undefined && top !== null) {
    if (logprobs !== true) return err('invalid_request', 'top_logprobs needs "logprobs": true');
    if (!Number.isInteger(top) || (top as number) < 0 || (top as number) > MAX_LOGPROBS) {
      return err('invalid_sampling_params', `top_logprobs must be an integer in [0, ${MAX_LOGPROBS}], got ${clip(JSON.stringify(top))}`);
    }
    sampling.logprobs = top;
  } else if (logprobs === true) {
    sampling.logprobs = 0; // the sampled token's log-prob only
  } else if (logprobs === false) {
    sampling.logprobs = null; // explicit: overrides a job-level sampling.logprobs
  }
  // vLLM: max_completion_tokens wins over the deprecated max_tokens
  if (maxTokens !== undefined && maxTokens !== null) sampling.max_tokens = maxTokens;
  return { n, customId, request: { id: customId, messages: body.messages as GenerateRequest['messages'], sampling } };
}

/** A chat answer in the OpenAI `chat.completion` shape (plus vLLM's stop_reason and our token_ids). */
export function chatRecord(customId: string, c: Completion, model: string, tok: Pick<Tokenizer, 'tokenBytes'>): OutputRecord {
  return answerRecord(customId, c, 'chat.completion', model, c.choices.map((ch) => chatChoice(ch, tok)));
}

function chatChoice(ch: Choice, tok: Pick<Tokenizer, 'tokenBytes'>) {
  // bytes: a token may hold part of a UTF-8 character, which `token` (text) cannot show
  const bytes = (tokenId: number) => Array.from(tok.tokenBytes(tokenId));
  const entry = (e: LogprobEntry) => ({
    token: e.token, logprob: e.logprob, bytes: bytes(e.token_id),
    top_logprobs: e.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytes(t.token_id) })),
  });
  return {
    index: ch.index,
    message: { role: 'assistant', content: ch.text },
    logprobs: ch.logprobs === null ? null : { content: ch.logprobs.map(entry) },
    finish_reason: ch.finish_reason, stop_reason: ch.stop_reason, token_ids: ch.token_ids,
  };
}
