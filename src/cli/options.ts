// Shared command-line options: model directory, engine sizes and vLLM-named sampling flags.
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_MODEL_DIR } from '../engine/local-engine.js';
import type { PipelineOptions } from '../pipeline/engine.js';
import { resolveModel, type ResolveOptions } from '../hub/index.js';

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
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export const MODEL_HELP = 'GPT-2 directory (config.json + model.safetensors), or a Hugging Face Hub id org/name[@revision] (cached, else downloaded)';
export const TOKEN_HELP = 'Hugging Face token for gated or private repos (default: HF_TOKEN)';

/** --model as a directory: a hub id is resolved from the Hugging Face cache or downloaded into it. */
export async function modelDir(spec: string, opts: Record<string, unknown>): Promise<string> {
  return (await resolveModel(spec, hubFromFlags(opts))).dir;
}

export function hubFromFlags(opts: Record<string, unknown>): ResolveOptions {
  return { token: opts.token as string | undefined, quiet: opts.quiet === true };
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <dir|id>', MODEL_HELP, DEFAULT_MODEL_DIR)
    .option('--token <token>', TOKEN_HELP)
    .option('--max-num-batched-tokens <n>', 'rows per forward step', int, 256)
    .option('--max-num-seqs <n>', 'sequences running at once', int, 32)
    .option('--kv-cache-tokens <n>', 'KV cache capacity in tokens', int)
    .option('--backend <name>', 'kernel backend: auto (fastest that loads), reference, native, gpujs', 'auto');
}

export function addPipelineOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'worker threads in all, mapped to stages × replicas × tensor-parallel ranks (see README)', int)
    .option('--stages <s>', 'pipeline stages (contiguous layer ranges)', int)
    .option('--replicas <r>', 'micro-batches each stage runs at once', int)
    .option('--tensor-parallel <t>', 'worker threads that run each micro-batch of a stage together, each on its share of every op', int)
    .option('--head-workers <h>', 'give the LM head its own stage, split by vocabulary over h workers', int);
}

export function addSamplingOptions(cmd: Command): Command {
  return cmd
    .option('--max-tokens <n>', 'tokens to generate (default 16)', int)
    .option('--temperature <t>', '0 = greedy (default 1.0)', num)
    .option('--top-k <k>', '0 or -1 = off', int)
    .option('--top-p <p>', 'nucleus sampling mass (default 1.0)', num)
    .option('--min-p <p>', 'drop tokens below min_p · p_max', num)
    .option('--repetition-penalty <x>', 'on prompt and generated tokens (default 1.0)', num)
    .option('--presence-penalty <x>', 'in [-2, 2]', num)
    .option('--frequency-penalty <x>', 'in [-2, 2]', num)
    .option('--seed <n>', 'random seed of the request (default: engine seed 0)', int)
    .option('--stop <text>', 'stop string (repeatable), cut from the output', collect)
    .option('--stop-token-ids <ids>', 'comma-separated token ids that end generation', idList)
    .option('--include-stop-str-in-output', 'keep the matched stop string')
    .option('--ignore-eos', 'keep generating after <|endoftext|>')
    .option('--n <n>', 'completions per prompt', int)
    .option('--logprobs <n>', 'top-N log-probs per generated token (0-20)', int);
}

const SAMPLING_FLAGS: Record<string, string> = {
  maxTokens: 'max_tokens', temperature: 'temperature', topK: 'top_k', topP: 'top_p', minP: 'min_p',
  repetitionPenalty: 'repetition_penalty', presencePenalty: 'presence_penalty', frequencyPenalty: 'frequency_penalty',
  seed: 'seed', stop: 'stop', stopTokenIds: 'stop_token_ids', includeStopStrInOutput: 'include_stop_str_in_output',
  ignoreEos: 'ignore_eos', n: 'n', logprobs: 'logprobs',
};

/** The sampling fields the user set (the rest take vLLM's defaults). */
export function samplingFromFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(SAMPLING_FLAGS)) if (opts[flag] !== undefined) out[field] = opts[flag];
  return out;
}

export function engineFromFlags(opts: Record<string, unknown>): PipelineOptions {
  return {
    maxBatchedTokens: opts.maxNumBatchedTokens as number,
    maxSeqs: opts.maxNumSeqs as number,
    kvCacheTokens: opts.kvCacheTokens as number | undefined,
    backend: opts.backend as string,
    workers: opts.workers as number | undefined,
    stages: opts.stages as number | undefined,
    replicas: opts.replicas as number | undefined,
    tensor: opts.tensorParallel as number | undefined,
    headWorkers: opts.headWorkers as number | undefined,
  };
}
