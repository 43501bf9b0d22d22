// Named errors. Library code throws these; only src/cli sets exit codes.
// Every message names the file, field or request, what was expected and what was given.

export class PipegptError extends Error {
  override name = 'PipegptError';
}

/** An error whose typed `code` says what went wrong, so no caller ever matches message text. */
export abstract class CodedError<C extends string> extends PipegptError {
  constructor(readonly code: C, message: string) {
    super(message);
  }
}

/** A value echoed into a message, cut at `max` characters: a 10 MB path or a binary file must not
 *  become a 10 MB error message. */
export function clip(text: string, max = 200): string {
  if (text.length <= max) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max; // never split a surrogate pair
  return `${text.slice(0, cut)}… (${Buffer.byteLength(text.slice(cut), 'utf8')} more bytes)`;
}

/** A checkpoint directory or file that cannot be loaded (config.json, safetensors, index). */
export class CheckpointError extends PipegptError {
  override name = 'CheckpointError';
  constructor(readonly file: string, detail: string) {
    super(`${clip(file)}: ${detail}`);
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
  | 'invalid_request'          // anything else about the request's shape (bad chat messages included)
  | 'chat_template_missing'    // chat messages for a model whose tokenizer has no chat template
  | 'invalid_structured_output' // response_format / structured_outputs malformed, or its schema, regex or grammar cannot compile
  | 'kv_cache_too_small'       // could not fit in the whole KV cache even alone
  | 'forward_failed'           // the forward pass kept failing for this request (worker faults)
  | 'internal_error';          // a bug: bookkeeping or sampling threw

/** A request that cannot run as asked (prompt too long for the context, empty prompt, bad token id). */
export class RequestError extends CodedError<RequestErrorCode> {
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

/** A job whose memory plan does not fit: names each part, what it needs and what the machine has. */
export class MemoryPlanError extends PipegptError {
  override name = 'MemoryPlanError';
}

/** A job config file (or the flags over it) that fails validation; names the key path and line. */
export class ConfigError extends PipegptError {
  override name = 'ConfigError';
  constructor(readonly file: string | null, readonly line: number | null, readonly keyPath: string, detail: string) {
    super(`${file === null ? 'command line' : clip(file)}${line !== null ? `:${line}` : ''}: ${detail}`);
  }
}

/** Why a job was refused or stopped; callers (tests, the CLI) branch on this, never on the text. */
export type JobErrorCode =
  | 'invalid_job'          // a job that cannot run as configured (no input, shard flags)
  | 'input_unreadable'     // -i (or a merge shard) missing, a directory, not a regular file
  | 'duplicate_custom_id'
  | 'output_unwritable'    // -o, --metrics-json or --profile cannot be written where it points
  | 'same_file'            // an output path is the input (also through a hard link)
  | 'output_locked'        // another run holds OUTPUT.lock
  | 'resume_mismatch'      // --resume with other settings than OUTPUT.config.json records
  | 'corrupt_output'       // an output (to resume or merge) with a line that is not a whole record
  | 'missing_records'      // merge: ids of --input with no record in any shard
  | 'disk_full'            // ENOSPC, EDQUOT or EFBIG while writing records
  | 'write_failed';        // any other write error

/** A batch job that cannot start or go on (duplicate custom_ids, output = input, corrupt output). */
export class JobError extends PipegptError {
  override name = 'JobError';
  constructor(message: string, readonly code: JobErrorCode = 'invalid_job') {
    super(message);
  }
}

/** Why a hub model could not be resolved; `code` lets callers and tests tell the cases apart. */
export type HubErrorCode =
  | 'bad-id'            // not org/name[@revision], or a revision / file name that is not a safe path
  | 'not-found'         // repo, revision or required file missing on the hub
  | 'gated'             // 401/403: a gated or private repo without (accepted) access
  | 'pickle-only'       // only pytorch_model.bin-style weights: pickles can run code, never loaded
  | 'no-weights'        // no config.json or no *.safetensors at all
  | 'offline'           // HF_HUB_OFFLINE / --offline and a needed file is not in the cache
  | 'network'           // the hub could not be reached
  | 'http'              // any other unexpected HTTP answer
  | 'hostile'           // the hub answered with something unsafe: bad commit id, ETag, path, oversize body
  | 'checksum'          // a downloaded blob's size or hash does not match the hub's ETag
  | 'lock';             // another download of the same blob did not finish in time

/** A Hugging Face Hub model that cannot be resolved or downloaded; names the repo and file. */
export class HubError extends CodedError<HubErrorCode> {
  override name = 'HubError';
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
