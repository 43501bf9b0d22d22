// The single-threaded engine: one process holds the whole model, runs the flat ragged batch
// through the forward pass and samples. It is the reference the pipeline runtime must equal.
import { fileURLToPath } from 'node:url';
import { resolveBackend } from '../kernels/register-all.js';
import { kernelSet } from '../kernels/registry.js';
import type { ModelConfig } from '../model/config.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import type { ForwardContext } from '../model/forward.js';
import type { ModelWeights } from '../model/param-layout.js';
import { allocWorkspace } from '../model/workspace.js';
import { BlockPool, BlockTables } from '../kv/block-pool.js';
import { kvBytesPerToken, viewKvStore } from '../kv/kv-store.js';
import { sharedTokenizer } from '../tokenizer/gpt2.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { Coordinator } from './coordinator.js';
import { LocalExecutor } from './executor.js';
import type { Completion, EngineOptions, GenerateRequest } from './types.js';

const KV_BYTES_LIMIT = 1 << 30;

export class LocalEngine {
  readonly config: ModelConfig;
  readonly tok: Tokenizer;
  readonly ctx: ForwardContext;
  readonly tables: BlockTables;
  readonly maxSeqs: number;
  readonly maxBatchedTokens: number;
  readonly backend: string;           // the kernel backend that actually runs
  private coordinator: Coordinator | null = null;
  private readonly seed: number;

  constructor(weights: ModelWeights, opts: EngineOptions = {}) {
    const c = weights.layout.config;
    this.config = c;
    this.tok = sharedTokenizer();
    this.maxSeqs = opts.maxSeqs ?? 16;
    this.maxBatchedTokens = opts.maxBatchedTokens ?? 256;
    this.seed = opts.seed ?? 0;
    const blockSize = opts.blockSize ?? 16;
    const maxBlocksPerSeq = Math.ceil(c.nPositions / blockSize);
    const defaultTokens = Math.min(this.maxSeqs * c.nPositions, Math.floor(KV_BYTES_LIMIT / kvBytesPerToken(c)));
    // at least one full-context sequence must fit, or a long request could never run
    const nBlocks = Math.max(maxBlocksPerSeq, Math.ceil((opts.kvCacheTokens ?? defaultTokens) / blockSize));
    this.tables = new BlockTables(new BlockPool(nBlocks), blockSize, this.maxSeqs, maxBlocksPerSeq);
    this.backend = resolveBackend(opts.backend ?? 'auto');
    const maxLogitRows = Math.min(this.maxBatchedTokens, Math.max(this.maxSeqs, 64));
    this.ctx = {
      config: c, weights, kernels: kernelSet(this.backend),
      kv: viewKvStore(c, 0, c.nLayer, nBlocks, blockSize), blockTable: this.tables.table, maxBlocksPerSeq,
      ws: allocWorkspace(c, this.maxBatchedTokens, maxLogitRows),
    };
  }

  static open(modelDir: string, opts: EngineOptions = {}): LocalEngine {
    return new LocalEngine(loadCheckpoint(modelDir), opts);
  }

  /** Runs every request to completion (continuous batching in this thread); results in request order. */
  generate(requests: GenerateRequest[], onDone?: (c: Completion, index: number) => void): Promise<Completion[]> {
    if (!this.coordinator) {
      // generation gets its own workspace: scoring calls on this engine may run between its steps
      const ws = allocWorkspace(this.config, this.ctx.ws.maxTokens, this.ctx.ws.maxLogitRows);
      this.coordinator = new Coordinator(new LocalExecutor({ ...this.ctx, ws }, this.backend), this.config, this.tables, this.tok, this.seed);
    }
    return this.coordinator.generate(requests, onDone);
  }
}

/** The model shipped in models/, used when no --model is given. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/kjv-gpt2-tiny', import.meta.url));
