// Command-line flags and the ONE path from them to options: defaults < config file (-c) < flags,
// validated by the job config schema (job/config.ts), for every command that runs a model (run,
// generate, score, profile, bench). Flags have no commander defaults, so an unset flag never
// hides the config file's value; the defaults live in job/config.ts JOB_DEFAULTS only.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { resolveModel, type ResolveOptions } from '../hub/index.js';
import { loadConfigFile, mergeConfig, type JobConfig, type JobConfigInput } from '../job/config.js';

export const num = (v: string): number => {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return x;
};
export const int = (v: string): number => {
  const x = num(v);
  if (!Number.isInteger(x)) throw new InvalidArgumentError(`expected an integer, got "${v}"`);
  return x;
};
export const idList = (v: string): number[] => v.split(',').map((s) => int(s.trim()));
export const intList = idList;
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export const MODEL_HELP = 'model directory (config.json + safetensors), or a Hugging Face Hub id org/name[@revision] (cached, else downloaded); default: the shipped model';
export const TOKEN_HELP = 'Hugging Face token for gated or private repos (default: HF_TOKEN)';

/** --model as a directory: a hub id is resolved from the Hugging Face cache or downloaded into it. */
export async function modelDir(spec: string, opts: Record<string, unknown>): Promise<string> {
  return (await resolveModel(spec, hubFromFlags(opts))).dir;
}

export function hubFromFlags(opts: Record<string, unknown>): ResolveOptions {
  return { token: opts.token as string | undefined, quiet: opts.quiet === true };
}

/** The model, backend, sizes and worker layout flags (and -c). `workerList`: --workers takes 1,2,4 (profile, bench). */
export function addEngineFlags(cmd: Command, workerList = false): Command {
  if (workerList) cmd.option('--workers <list>', 'worker counts to run, comma-separated (default: the config\'s workers, or 1)', intList);
  else cmd.option('--workers <n>', 'worker threads in all, mapped to stages × replicas × tensor-parallel ranks (see README)', int);
  return cmd
    .option('-c, --config <file>', 'job config (YAML or JSON); flags override it; see docs/jobs.md')
    .option('--model <dir|id>', MODEL_HELP)
    .option('--token <token>', TOKEN_HELP)
    .option('--backend <name>', 'kernel backend: auto (fastest that loads), reference, native, gpujs')
    .option('--dtype <t>', 'linear weights in memory: auto (the checkpoint\'s 16-bit type, else float32), float32, bfloat16, float16')
    .option('--quantization <q>', 'int8: linear weights and the LM head as 8-bit blocks of 32 (one scale each), quantized at load')
    .option('--kv-cache-dtype <t>', 'KV cache elements: auto (like the weights: float32, float16 with 16-bit ones, int8 with int8 ones), float32, float16, int8 (q8 blocks of 32 channels: 0.56× float16)')
    .option('--stages <s>', 'pipeline stages (contiguous layer ranges)', int)
    .option('--replicas <r>', 'micro-batches each stage runs at once', int)
    .option('--tensor-parallel <t>', 'worker threads that run each micro-batch of a stage together, each on its share of every op', int)
    .option('--head-workers <h>', 'give the LM head its own stage, split by vocabulary over h workers', int)
    .option('--max-num-batched-tokens <n>', 'rows per forward step (default 256)', int)
    .option('--max-num-seqs <n>', 'sequences running at once (default 32)', int)
    .option('--kv-cache-tokens <n>', 'KV cache capacity in tokens', int)
    // both forms, so an unset flag stays undefined and never hides the config file's value
    .option('--enable-prefix-caching', 'share the KV blocks of equal prompt prefixes across requests (default on)')
    .option('--no-enable-prefix-caching', 'compute every prompt in full')
    .option('--seed <n>', 'random seed of requests without their own (default 0)', int);
}

export function addSamplingFlags(cmd: Command): Command {
  return cmd
    .option('--max-tokens <n>', 'tokens to generate (default 16)', int)
    .option('--temperature <t>', '0 = greedy (default 1.0)', num)
    .option('--top-k <k>', '0 or -1 = off', int)
    .option('--top-p <p>', 'nucleus sampling mass (default 1.0)', num)
    .option('--min-p <p>', 'drop tokens below min_p · p_max', num)
    .option('--repetition-penalty <x>', 'on prompt and generated tokens (default 1.0)', num)
    .option('--presence-penalty <x>', 'in [-2, 2]', num)
    .option('--frequency-penalty <x>', 'in [-2, 2]', num)
    .option('--stop <text>', 'stop string (repeatable), cut from the output', collect)
    .option('--stop-token-ids <ids>', 'comma-separated token ids that end generation', idList)
    .option('--include-stop-str-in-output', 'keep the matched stop string')
    .option('--ignore-eos', 'keep generating after the end-of-text token')
    .option('--n <n>', 'completions per prompt', int)
    .option('--logprobs <n>', 'top-N log-probs per generated token (0-20)', int)
    .option('--json-schema <file>', 'outputs are compact JSON valid under this JSON Schema (structured outputs)')
    .option('--regex <re>', 'outputs match this regular expression')
    .option('--choice <a,b,c>', 'each output is exactly one of these comma-separated strings');
}

/** --json-schema / --regex / --choice as the structured_outputs they stand for (null: none given). */
function structuredFromFlags(opts: Record<string, unknown>): Record<string, unknown> | null {
  const given = (['jsonSchema', 'regex', 'choice'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw new UsageError(`--json-schema, --regex and --choice exclude each other, got ${given.map((k) => `--${k === 'jsonSchema' ? 'json-schema' : k}`).join(' and ')}`);
  if (opts.regex !== undefined) return { regex: opts.regex };
  if (opts.choice !== undefined) return { choice: String(opts.choice).split(',').filter((c) => c.length > 0) };
  if (opts.jsonSchema === undefined) return null;
  const file = opts.jsonSchema as string;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--json-schema ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return { json: JSON.parse(text) };
  } catch (e) {
    throw new UsageError(`--json-schema ${file}: not JSON (${(e as Error).message})`);
  }
}

/** commander's camelCase flag → config key. */
const FLAG_KEYS: Record<string, string> = {
  input: 'input', output: 'output', model: 'model', inputFormat: 'input_format', workers: 'workers', stages: 'stages',
  replicas: 'replicas', tensorParallel: 'tensor_parallel', headWorkers: 'head_workers', backend: 'backend', dtype: 'dtype', quantization: 'quantization',
  kvCacheDtype: 'kv_cache_dtype',
  maxNumBatchedTokens: 'max_num_batched_tokens', maxNumSeqs: 'max_num_seqs', kvCacheTokens: 'kv_cache_tokens', seed: 'seed',
  enablePrefixCaching: 'enable_prefix_caching', maxInFlight: 'max_in_flight', progressIntervalS: 'progress_interval_s', shardIndex: 'shard_index', numShards: 'num_shards',
  metricsJson: 'metrics_json', profile: 'profile',
};
const SAMPLING_KEYS: Record<string, string> = {
  maxTokens: 'max_tokens', temperature: 'temperature', topK: 'top_k', topP: 'top_p', minP: 'min_p',
  repetitionPenalty: 'repetition_penalty', presencePenalty: 'presence_penalty', frequencyPenalty: 'frequency_penalty',
  stop: 'stop', stopTokenIds: 'stop_token_ids', includeStopStrInOutput: 'include_stop_str_in_output',
  ignoreEos: 'ignore_eos', n: 'n', logprobs: 'logprobs',
};

function pick(opts: Record<string, unknown>, keys: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(keys)) if (opts[flag] !== undefined) out[key] = opts[flag];
  return out;
}

/** The config keys the flags set (sampling fields under `sampling`); a worker list is left to the caller. */
export function configFromFlags(opts: Record<string, unknown>): JobConfigInput {
  const out = pick(opts, FLAG_KEYS);
  if (Array.isArray(out.workers)) delete out.workers;
  const sampling = pick(opts, SAMPLING_KEYS);
  const structured = structuredFromFlags(opts);
  if (structured !== null) sampling.structured_outputs = structured;
  if (Object.keys(sampling).length > 0) out.sampling = sampling;
  return out as JobConfigInput;
}

/** defaults < config file (-c) < flags, validated: the options of every command that runs a model. */
export function resolveOptions(opts: Record<string, unknown>): JobConfig {
  const file = opts.config !== undefined ? loadConfigFile(opts.config as string) : {};
  return mergeConfig(file, configFromFlags(opts));
}

/** The worker counts of `profile`/`bench`: --workers 1,2,4, else the config's workers, else 1. */
export function workerCounts(opts: Record<string, unknown>, cfg: JobConfig): number[] {
  return (opts.workers as number[] | undefined) ?? [cfg.workers ?? 1];
}
