// What an engine is asked to be: the one options type every engine takes, with its defaults.
// Flags and config files become this in one place (src/cli/options.ts resolveOptions → job
// config → engineOptions); nothing below the runtime reads flags or config keys.
import { fileURLToPath } from 'node:url';
import type { KvCacheDtype } from '../kv/kv-store.js';
import type { Dtype, Quantization } from '../model/weight-format.js';
import type { FaultSpec } from '../pipeline/protocol.js';

/** The model shipped in models/, used when no --model is given. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/kjv-gpt2-tiny', import.meta.url));

export interface EngineOptions {
  backend?: string;          // kernel backend name, or "auto" (default): the fastest that loads
  dtype?: Dtype;             // linear weights: auto (default: the checkpoint's 16-bit type, else f32), float32, bfloat16, float16
  quantization?: Quantization; // int8: linear weights and the LM head as 8-bit blocks (model/weight-format.ts)
  kvCacheDtype?: KvCacheDtype; // KV cache elements: auto (default: f32 with f32 weights, else f16), float32, float16
  maxBatchedTokens?: number; // rows per forward step (default 256)
  maxSeqs?: number;          // sequences running at once (default 32)
  kvCacheTokens?: number;    // KV capacity in tokens (default: maxSeqs · context, at most KV_BYTES_DEFAULT; at least one full context)
  blockSize?: number;        // tokens per KV block (default 16)
  seed?: number;             // used by requests without their own seed (default 0)
  enablePrefixCaching?: boolean; // share KV blocks of equal prompt prefixes across requests (default true)
  // worker layout (PipelineEngine only)
  workers?: number;          // worker threads in all (default 1); mapped to stages × replicas × ranks by planStages
  stages?: number;           // force S stages ...
  replicas?: number;         // ... of R replicas each ...
  tensor?: number;           // ... of T tensor-parallel ranks each (threads = S × R × T)
  headWorkers?: number;      // or: a separate head stage split by vocabulary over H workers
  microBatches?: number;     // batch slots in flight (default: one per lane, +1 with several stages)
  maxRetries?: number;       // recomputations of a micro-batch after a worker fault (default 2)
  /** Tests and benches only: false runs every choice of an n > 1 request from its own prefill, as before forks. */
  forkChoices?: boolean;
  /** Tests only: make the first `count` tasks of `stage` after `afterTasks` fail. */
  fault?: Omit<FaultSpec, 'remaining'> & { count: number };
}

export const ENGINE_DEFAULTS = Object.freeze({
  backend: 'auto', dtype: 'auto' as Dtype, quantization: 'none' as Quantization, kvCacheDtype: 'auto' as KvCacheDtype,
  maxBatchedTokens: 256, maxSeqs: 32, blockSize: 16, seed: 0, maxRetries: 2,
  enablePrefixCaching: true,
});

/** Default KV cache size cap: the cache is maxSeqs full contexts, but no more than this. */
export const KV_BYTES_DEFAULT = 1 << 30;

export type ResolvedEngineOptions = typeof ENGINE_DEFAULTS & EngineOptions;

/** The options with every unset field at its default. */
export function withDefaults(opts: EngineOptions): ResolvedEngineOptions {
  const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...ENGINE_DEFAULTS, ...set };
}
