// Turns a raw request into validated prompt ids and sampling params, or a RequestError naming
// the request and the numbers involved. One bad request never stops the others.
import { RequestError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { resolveSamplingParams, type SamplingParams } from '../sampling/params.js';
import type { Tokenizer } from '../tokenizer/types.js';
import type { GenerateRequest } from './types.js';

export interface PreparedRequest {
  id: string;
  promptIds: number[];
  params: SamplingParams;
}

export function prepareRequest(req: GenerateRequest, config: ModelConfig, tok: Tokenizer): PreparedRequest {
  const where = `request ${JSON.stringify(req.id)}`;
  let params: SamplingParams;
  try {
    params = resolveSamplingParams(req.sampling ?? {}, config.vocabSize);
  } catch (e) {
    throw new RequestError('invalid_sampling_params', `${where}: ${(e as Error).message}`);
  }
  let ids: number[];
  if (req.prompt_token_ids !== undefined) {
    ids = req.prompt_token_ids;
    const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= config.vocabSize);
    if (bad >= 0) {
      throw new RequestError('invalid_prompt', `${where}: prompt_token_ids[${bad}] must be an integer in [0, ${config.vocabSize - 1}], got ${JSON.stringify(ids[bad])}`);
    }
  } else if (typeof req.prompt === 'string') {
    ids = tok.encode(req.prompt, req.allow_special === true);
    const bad = ids.findIndex((t) => t >= config.vocabSize);
    if (bad >= 0) {
      throw new RequestError('invalid_prompt', `${where}: prompt token ${ids[bad]} is outside this model's vocabulary of ${config.vocabSize}`);
    }
  } else {
    throw new RequestError('invalid_request', `${where}: needs "prompt" (text) or "prompt_token_ids" (array of ids)`);
  }
  if (ids.length === 0) throw new RequestError('invalid_prompt', `${where}: the prompt is empty (at least 1 token is needed)`);
  if (ids.length + params.max_tokens > config.nPositions) {
    throw new RequestError('context_length_exceeded', `${where}: prompt of ${ids.length} tokens + max_tokens ${params.max_tokens} = ${ids.length + params.max_tokens} exceeds the model's context of ${config.nPositions} tokens`);
  }
  return { id: req.id, promptIds: ids, params };
}
