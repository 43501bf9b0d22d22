// Turns a raw request into validated prompt ids and sampling params, or a RequestError naming
// the request and the numbers involved. One bad request never stops the others.
import { ChatTemplateError, RequestError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { resolveSamplingParams, type SamplingParams } from '../sampling/params.js';
import { checkMessages } from '../tokenizer/chat.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { parseStructured, splitStructured, StructuredSpecError, type StructuredSpec } from '../structured/spec.js';
import type { GenerateRequest } from './types.js';

export interface PreparedRequest {
  id: string;
  promptIds: number[];
  params: SamplingParams;
  structured: StructuredSpec | null; // the grammar its output must follow
}

const PROMPT_FIELDS = ['prompt', 'prompt_token_ids', 'messages'] as const;

export function prepareRequest(req: GenerateRequest, config: ModelConfig, tok: Tokenizer): PreparedRequest {
  const where = `request ${JSON.stringify(req.id)}`;
  // batch lines and configs carry response_format / structured_outputs beside the sampling fields
  const { params: sampling, structured: structuredFields } = splitStructured(req.sampling ?? {});
  let params: SamplingParams;
  try {
    params = resolveSamplingParams(sampling, config.vocabSize);
  } catch (e) {
    throw new RequestError('invalid_sampling_params', `${where}: ${(e as Error).message}`);
  }
  let structured: StructuredSpec | null;
  try {
    structured = parseStructured(structuredFields);
  } catch (e) {
    if (e instanceof StructuredSpecError) throw new RequestError('invalid_structured_output', `${where}: ${e.message}`);
    throw e;
  }
  if (structured !== null && tok.textless === true) {
    throw new RequestError('invalid_structured_output', `${where}: ${structured.field}: structured outputs need the model's tokenizer (none was found beside the checkpoint)`);
  }
  // two prompt fields would leave it to us to guess which one the caller meant
  const given = PROMPT_FIELDS.filter((k) => req[k] !== undefined);
  if (given.length !== 1) {
    throw new RequestError('invalid_request', `${where}: needs exactly one of "prompt" (text), "prompt_token_ids" (array of ids) or "messages" (chat), got ${given.length === 0 ? 'none' : given.map((k) => `"${k}"`).join(' and ')}`);
  }
  let ids: number[];
  if (req.prompt_token_ids !== undefined) {
    ids = req.prompt_token_ids;
    if (!Array.isArray(ids)) throw new RequestError('invalid_prompt', `${where}: prompt_token_ids must be an array of token ids, got ${JSON.stringify(ids)?.slice(0, 80)}`);
    const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= config.vocabSize);
    if (bad >= 0) {
      throw new RequestError('invalid_prompt', `${where}: prompt_token_ids[${bad}] must be an integer in [0, ${config.vocabSize - 1}], got ${JSON.stringify(ids[bad])}`);
    }
  } else {
    ids = req.messages !== undefined ? chatIds(req.messages, tok, where) : textIds(req.prompt, req.allow_special === true, tok, where);
    const bad = ids.findIndex((t) => t >= config.vocabSize);
    if (bad >= 0) {
      throw new RequestError('invalid_prompt', `${where}: prompt token ${ids[bad]} is outside this model's vocabulary of ${config.vocabSize}`);
    }
  }
  if (ids.length === 0) throw new RequestError('invalid_prompt', `${where}: the prompt is empty (at least 1 token is needed)`);
  if (ids.length + params.max_tokens > config.nPositions) {
    throw new RequestError('context_length_exceeded', `${where}: prompt of ${ids.length} tokens + max_tokens ${params.max_tokens} = ${ids.length + params.max_tokens} exceeds the model's context of ${config.nPositions} tokens`);
  }
  return { id: req.id, promptIds: ids, params, structured };
}

function textIds(prompt: unknown, allowSpecial: boolean, tok: Tokenizer, where: string): number[] {
  if (typeof prompt !== 'string') throw new RequestError('invalid_request', `${where}: prompt must be a string, got ${JSON.stringify(prompt)?.slice(0, 80)}`);
  return tok.encode(prompt, allowSpecial);
}

/**
 * A conversation's prompt ids: the messages are checked first (a malformed request is that
 * whatever the model), then the model must have a chat template. A template that refuses the
 * conversation (raise_exception: "roles must alternate") is the request's error too.
 */
function chatIds(messages: unknown, tok: Tokenizer, where: string): number[] {
  let checked;
  try {
    checked = checkMessages(messages);
  } catch (e) {
    throw new RequestError('invalid_request', `${where}: ${(e as Error).message}`);
  }
  if (tok.chat === undefined) {
    throw new RequestError('chat_template_missing', `${where}: this model's tokenizer has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja), so it cannot take "messages"; send "prompt" or "prompt_token_ids"`);
  }
  try {
    return tok.chat(checked).ids;
  } catch (e) {
    if (e instanceof ChatTemplateError) throw new RequestError('invalid_request', `${where}: ${e.message}`);
    throw e;
  }
}
