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

/** A request that cannot run as asked (prompt too long for the context, empty prompt, bad token id). */
export class RequestError extends PipegptError {
  override name = 'RequestError';
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

/** A tokenizer.json / tokenizer_config.json / generation_config.json that cannot be used. */
export class TokenizerError extends PipegptError {
  override name = 'TokenizerError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A chat request that cannot be rendered: no chat_template, bad messages, or the template raised. */
export class ChatTemplateError extends PipegptError {
  override name = 'ChatTemplateError';
}
