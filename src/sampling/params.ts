// Sampling parameters with vLLM / OpenAI names and defaults. Validation throws a
// SamplingParamError naming the field, the allowed range and the value given.
import { SamplingParamError } from '../errors.js';

export interface SamplingParams {
  max_tokens: number;              // 16
  temperature: number;             // 1.0; < 1e-5 means greedy
  top_k: number;                   // 0 or -1 = off
  top_p: number;                   // 1.0
  min_p: number;                   // 0.0
  repetition_penalty: number;      // 1.0 (prompt and generated tokens)
  presence_penalty: number;        // 0.0 (generated tokens)
  frequency_penalty: number;       // 0.0 (generated tokens)
  seed: number | null;             // null = the engine's seed
  stop: string[];                  // matched on decoded text across token boundaries
  stop_token_ids: number[];
  include_stop_str_in_output: boolean;
  ignore_eos: boolean;
  n: number;                       // choices per request
  logprobs: number | null;         // top-N log-probs per generated token, plus the sampled one
}

export const DEFAULT_SAMPLING: Readonly<SamplingParams> = Object.freeze({
  max_tokens: 16, temperature: 1.0, top_k: 0, top_p: 1.0, min_p: 0.0, repetition_penalty: 1.0,
  presence_penalty: 0.0, frequency_penalty: 0.0, seed: null, stop: [], stop_token_ids: [],
  include_stop_str_in_output: false, ignore_eos: false, n: 1, logprobs: null,
});

export const MAX_LOGPROBS = 20;
export const GREEDY_EPS = 1e-5;

const fmt = (v: unknown) => JSON.stringify(v) ?? String(v);
const fail = (field: string, detail: string, got: unknown): never => {
  throw new SamplingParamError(field, `${detail}, got ${fmt(got)}`);
};

function num(raw: Record<string, unknown>, field: keyof SamplingParams, check: (v: number) => boolean, range: string, int = false): number {
  const v = raw[field] ?? DEFAULT_SAMPLING[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || !check(v)) fail(field, `must be ${range}`, v);
  return v as number;
}

function bool(raw: Record<string, unknown>, field: keyof SamplingParams): boolean {
  const v = raw[field] ?? DEFAULT_SAMPLING[field];
  if (typeof v !== 'boolean') fail(field, 'must be true or false', v);
  return v as boolean;
}

function stopList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) fail('stop', 'must be a string or a list of strings', v);
  if ((list as string[]).some((s) => s === '')) fail('stop', 'cannot contain an empty string', v);
  return list as string[];
}

function tokenIdList(v: unknown, vocabSize: number): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((t) => Number.isInteger(t) && t >= 0 && t < vocabSize)) {
    fail('stop_token_ids', `must be a list of token ids in [0, ${vocabSize - 1}]`, v);
  }
  return v as number[];
}

const KNOWN = new Set<string>(Object.keys(DEFAULT_SAMPLING));

/** Fills defaults and checks every field. Unknown fields are rejected by name. */
export function resolveSamplingParams(raw: Record<string, unknown> = {}, vocabSize = 50257): SamplingParams {
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k)) throw new SamplingParamError(k, `is not a sampling parameter (known: ${[...KNOWN].join(', ')})`);
  }
  const p: SamplingParams = {
    max_tokens: num(raw, 'max_tokens', (v) => v >= 1, 'an integer ≥ 1', true),
    temperature: num(raw, 'temperature', (v) => v >= 0 && v <= 2, 'in [0, 2]'),
    top_k: num(raw, 'top_k', (v) => v === -1 || v >= 0, '0 or -1 (disable), or at least 1', true),
    top_p: num(raw, 'top_p', (v) => v > 0 && v <= 1, 'in (0, 1]'),
    min_p: num(raw, 'min_p', (v) => v >= 0 && v <= 1, 'in [0, 1]'),
    repetition_penalty: num(raw, 'repetition_penalty', (v) => v > 0, 'greater than zero'),
    presence_penalty: num(raw, 'presence_penalty', (v) => v >= -2 && v <= 2, 'in [-2, 2]'),
    frequency_penalty: num(raw, 'frequency_penalty', (v) => v >= -2 && v <= 2, 'in [-2, 2]'),
    seed: raw.seed === undefined || raw.seed === null ? null : num(raw, 'seed', (v) => Number.isSafeInteger(v), 'an integer', true),
    stop: stopList(raw.stop),
    stop_token_ids: tokenIdList(raw.stop_token_ids, vocabSize),
    include_stop_str_in_output: bool(raw, 'include_stop_str_in_output'),
    ignore_eos: bool(raw, 'ignore_eos'),
    n: num(raw, 'n', (v) => v >= 1 && v <= 128, 'an integer in [1, 128]', true),
    logprobs: raw.logprobs === undefined || raw.logprobs === null ? null
      : num(raw, 'logprobs', (v) => v >= 0 && v <= MAX_LOGPROBS, `an integer in [0, ${MAX_LOGPROBS}]`, true),
  };
  if (p.temperature < GREEDY_EPS && p.n > 1) fail('n', 'must be 1 when using greedy sampling (temperature 0)', p.n);
  return p;
}
