// Named errors. Library code throws these; only src/cli sets exit codes.
// Every message names the file, field or request, what was expected and what was given.

export class PipegptError extends Error {
  override name = 'PipegptError';
}

/** A checkpoint directory or file that cannot be loaded (config.json, safetensors, index). */
export class CheckpointError extends PipegptError {
  override name = 'CheckpointError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A sampling parameter out of its allowed range. */
export class SamplingParamError extends PipegptError {
  override name = 'SamplingParamError';
  constructor(readonly field: string, detail: string) {
    super(`${field} ${detail}`);
  }
}

/**
 * Why a request failed, as OpenAI-style error codes in output records (job/output.ts takes the
 * code from here, never from the message text).
 */
export type RequestErrorCode =
  | 'context_length_exceeded'  // prompt + max_tokens beyond the model's context
  | 'invalid_sampling_params'  // a sampling field out of range or unknown
  | 'invalid_prompt'           // empty, or token ids outside the vocabulary
  | 'invalid_request'          // anything else about the request's shape
  | 'kv_cache_too_small'       // could not fit in the whole KV cache even alone
  | 'forward_failed'           // the forward pass kept failing for this request (worker faults)
  | 'internal_error';          // a bug: bookkeeping or sampling threw

/** A request that cannot run as asked (prompt too long for the context, empty prompt, bad token id). */
export class RequestError extends PipegptError {
  override name = 'RequestError';
  constructor(readonly code: RequestErrorCode, message: string) {
    super(message);
  }
}

/** The KV cache has no free block left for the step being planned. */
export class KvCacheFullError extends PipegptError {
  override name = 'KvCacheFullError';
}

/** A kernel asked for by (backend, op) is not registered, or registered twice. */
export class KernelRegistryError extends PipegptError {
  override name = 'KernelRegistryError';
}

/** Bad command-line or configuration input. */
export class UsageError extends PipegptError {
  override name = 'UsageError';
}

/** A job whose memory plan does not fit: names each part, what it needs and what the machine has. */
export class MemoryPlanError extends PipegptError {
  override name = 'MemoryPlanError';
}

/** A job config file (or the flags over it) that fails validation; names the key path and line. */
export class ConfigError extends PipegptError {
  override name = 'ConfigError';
  constructor(readonly file: string | null, readonly line: number | null, readonly keyPath: string, detail: string) {
    super(`${file ?? 'command line'}${line !== null ? `:${line}` : ''}: ${detail}`);
  }
}

/** A batch job that cannot start or go on (duplicate custom_ids, output = input, corrupt output). */
export class JobError extends PipegptError {
  override name = 'JobError';
}
