// The single-threaded engine: one process holds the whole model, runs the flat ragged batch
// through the forward pass and samples. It is the reference the pipeline runtime must equal, and
// what scoring runs on. Its memory is planned like the pipeline's (runtime/memory.ts): one
// batch slot for generation, one workspace for scoring, one KV store for every layer.
import { Coordinator } from '../engine/coordinator.js';
import { LocalExecutor } from '../engine/executor.js';
import type { Completion, GenerateRequest } from '../engine/types.js';
import { resolveBackend } from '../kernels/register-all.js';
import { kernelSet } from '../kernels/registry.js';
import type { BlockTables } from '../kv/block-pool.js';
import type { KvStore } from '../kv/kv-store.js';
import { loadIndexed } from '../model/checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import type { ForwardContext } from '../model/forward.js';
import { wholePart, type TensorPart } from '../model/tensor-parallel.js';
import { fullModelStage, type ModelWeights } from '../model/param-layout.js';
import { allocScratch, type BatchSlot, type Workspace } from '../model/workspace.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { openCheckpoint } from './checkpoint.js';
import { engineTokenizer } from './tokenizer.js';
import { allocateMemory, planMemory, type MemoryPlan } from './memory.js';
import { withDefaults, type EngineOptions } from './options.js';

export class LocalEngine {
  readonly tok: Tokenizer;
  readonly ctx: ForwardContext;       // the scoring workspace (slot 0)
  readonly tables: BlockTables;
  readonly part: TensorPart;          // every linear whole: one thread runs the whole model
  readonly backend: string;           // the kernel backend that actually runs
  private coordinator: Coordinator | null = null;
  private readonly generationSlot: BatchSlot;
  private readonly kv: KvStore[];

  private constructor(readonly config: ModelConfig, readonly memory: MemoryPlan, weights: ModelWeights, backend: string,
    private readonly seed: number, tok: Tokenizer, private readonly coordinatorOpts: { prefixCaching: boolean; modelId: string; forkChoices?: boolean }) {
    this.tok = tok;
    this.backend = backend;
    const mem = allocateMemory(config, memory);
    this.tables = mem.tables;
    this.kv = mem.kv;
    this.ctx = {
      config, weights, kernels: kernelSet(backend), kv: mem.kv[0], blockTable: mem.tables.table,
      maxBlocksPerSeq: memory.maxBlocksPerSeq, ws: this.workspace(mem.slots.slots[0]),
    };
    this.generationSlot = mem.slots.slots[1];
    this.part = wholePart(weights.layers, config);
  }

  static open(modelDir: string, opts: EngineOptions = {}): LocalEngine {
    const o = withDefaults(opts);
    const { index, config: c, format, kvFormat, weightsBytes, modelId } = openCheckpoint(modelDir, o);
    const maxLogitRows = Math.min(o.maxBatchedTokens, Math.max(o.maxSeqs, 64));
    const memory = planMemory(c, {
      weightsBytes, maxSeqs: o.maxSeqs, maxBatchedTokens: o.maxBatchedTokens,
      kvCacheTokens: o.kvCacheTokens, kvFormat, blockSize: o.blockSize, stages: [fullModelStage(c)],
      // two slots: generation gets its own, since scoring calls on this engine may run between its steps
      slots: { maxTokens: o.maxBatchedTokens, maxLogitRows, count: 2 },
      scratch: [{ threads: 2, activations: true }],
    });
    const backend = resolveBackend(o.backend);
    return new LocalEngine(c, memory, loadIndexed(index, undefined, format), backend, o.seed, engineTokenizer(modelDir, c),
      { prefixCaching: o.enablePrefixCaching, modelId, forkChoices: o.forkChoices });
  }

  get maxSeqs(): number { return this.memory.maxSeqs; }
  get maxBatchedTokens(): number { return this.memory.slots.maxTokens; }

  private workspace(slot: BatchSlot): Workspace {
    const { maxTokens, maxLogitRows } = this.memory.slots;
    return { ...slot, ...allocScratch(this.config, maxTokens, maxLogitRows), maxTokens, maxLogitRows };
  }

  /** Runs every request to completion (continuous batching in this thread); results in request order. */
  generate(requests: GenerateRequest[], onDone?: (c: Completion, index: number) => void): Promise<Completion[]> {
    if (!this.coordinator) {
      const ctx = { ...this.ctx, ws: this.workspace(this.generationSlot) };
      this.coordinator = new Coordinator(new LocalExecutor(ctx, this.part, this.backend), this.config, this.tables, this.tok, this.seed,
        { ...this.coordinatorOpts, kv: this.kv });
    }
    return this.coordinator.generate(requests, onDone);
  }
}
