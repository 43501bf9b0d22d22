// The pipeline engine, usable from code as from the CLI: create it from a model directory,
// submit requests (completions resolve as they finish), close it. Plans the job's memory
// (runtime/memory.ts) before loading anything, loads the weights once, starts the stage pools,
// and runs the coordinator on top.
import { Coordinator, type CoordinatorStats } from '../engine/coordinator.js';
import type { Completion, GenerateRequest } from '../engine/types.js';
import { resolveBackend } from '../kernels/register-all.js';
import { loadIndexed } from '../model/checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import type { WeightFormat } from '../model/weight-format.js';
import type { KvFormat } from '../kv/kv-store.js';
import { nativeSimd } from '../kernels/native/index.js';
import { shardLayerColumns } from '../model/tensor-parallel.js';
import { PipelineExecutor } from '../pipeline/executor.js';
import { headParts, planStages, type PlannedStage, type StagePlan } from '../pipeline/stage-plan.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { openCheckpoint } from './checkpoint.js';
import { engineTokenizer } from './tokenizer.js';
import { allocateMemory, planMemory, type MemoryPlan } from './memory.js';
import { withDefaults, type EngineOptions, type ResolvedEngineOptions } from './options.js';

export class PipelineEngine {
  private constructor(readonly config: ModelConfig, readonly plan: StagePlan, readonly memory: MemoryPlan,
    readonly executor: PipelineExecutor, private readonly coordinator: Coordinator, readonly tok: Tokenizer,
    readonly format: WeightFormat,  // of the linear weights
    readonly loadMs: number) {}     // create(): checkpoint read, weights converted, workers started

  static async create(modelDir: string, opts: EngineOptions = {}): Promise<PipelineEngine> {
    const t0 = performance.now(), o = withDefaults(opts);
    const { index, config: c, format, kvFormat, weightsBytes, modelId } = openCheckpoint(modelDir, o);
    const plan = planStages(c, { workers: o.workers, stages: o.stages, replicas: o.replicas, tensor: o.tensor, headWorkers: o.headWorkers, seqs: o.maxSeqs });
    const memory = planMemory(c, {
      weightsBytes, maxSeqs: o.maxSeqs, maxBatchedTokens: o.maxBatchedTokens,
      kvCacheTokens: o.kvCacheTokens, kvFormat, blockSize: o.blockSize, stages: plan.stages, slots: slotSpec(plan, o),
      scratch: plan.stages.map((s) => ({ threads: s.replicas * s.tensor, activations: s.tensor === 1 })),
    });
    const backend = resolveBackend(o.backend);
    const weights = loadIndexed(index, undefined, format);
    // tensor-parallel stages stream contiguous column shards of their weights (model/tensor-parallel.ts)
    for (const s of plan.stages) shardLayerColumns(weights.layers.slice(s.layerStart, s.layerEnd), c, s.tensor);
    const mem = allocateMemory(c, memory);
    const fault = o.fault ? { ...o.fault, remaining: counter(o.fault.count) } : null;
    const executor = await PipelineExecutor.start(plan, {
      config: c, format, backend, params: weights.buffer, nBlocks: memory.nBlocks, blockSize: memory.blockSize,
      blockTable: mem.tables.buffer, maxBlocksPerSeq: memory.maxBlocksPerSeq, kv: mem.kv.map((k) => k.buffer), kvFormat,
      slots: mem.slots, slotSpec: memory.slots, fault,
    }, o.maxRetries);
    const tok = engineTokenizer(modelDir, c);
    const coordinator = new Coordinator(executor, c, mem.tables, tok, o.seed, {
      prefixCaching: o.enablePrefixCaching, modelId, kv: mem.kv, forkChoices: o.forkChoices,
    });
    return new PipelineEngine(c, plan, memory, executor, coordinator, tok, format, performance.now() - t0);
  }

  get backend(): string { return this.executor.backend; }
  /** The native SIMD path the kernels run (chosen at load from the CPU), null for other backends. */
  get kernelPath(): string | null { return this.backend === 'native' ? nativeSimd() : null; }
  get kvCacheTokens(): number { return this.memory.kvTokens; }
  /** The KV cache's element type (kv_cache_dtype resolved). */
  get kvFormat(): KvFormat { return this.memory.kvFormat; }
  get stats(): CoordinatorStats { return this.coordinator.stats; }
  set recordSpans(on: boolean) { this.coordinator.recordSpans = on; }
  /** Optional per-token hook (requestId, choice, tokenIndex, performance.now()), for TTFT/TPOT/ITL. */
  set onToken(fn: ((requestId: string, choice: number, tokenIndex: number, timeMs: number) => void) | undefined) {
    this.coordinator.onToken = fn;
  }

  submit(req: GenerateRequest): Promise<Completion> {
    return this.coordinator.submit(req);
  }

  generate(requests: GenerateRequest[], onDone?: (c: Completion, index: number) => void): Promise<Completion[]> {
    return this.coordinator.generate(requests, onDone);
  }

  close(): Promise<void> {
    this.coordinator.dispose();
    return this.executor.close();
  }
}

/**
 * The batch slots: one micro-batch in flight per lane (a replica, or a tensor-parallel group, of
 * each stage) keeps every worker busy (measured: 2 workers on GPT-2 small, 258 tok/s with 2 vs 223
 * with 3, since bigger micro-batches use the kernels better); a layer pipeline gets one more so a
 * stage never waits while the coordinator samples. Each micro-batch samples at most its share of
 * the running sequences, so K of them fill the pipeline.
 */
function slotSpec(plan: StagePlan, o: ResolvedEngineOptions) {
  const lanes = plan.stages.reduce((n, s) => n + s.replicas, 0);
  const K = Math.max(o.microBatches ?? (plan.stages.length > 1 ? lanes + 1 : lanes), plan.stages.length);
  const last: PlannedStage = plan.stages[plan.stages.length - 1];
  return {
    maxTokens: o.maxBatchedTokens, maxLogitRows: Math.min(o.maxBatchedTokens, Math.ceil(o.maxSeqs / K)), count: K,
    sharedActivations: plan.stages.some((s) => s.tensor > 1), headParts: headParts(last),
  };
}

function counter(v: number): SharedArrayBuffer {
  const b = new SharedArrayBuffer(4);
  new Int32Array(b)[0] = v;
  return b;
}
