// The pipeline engine, usable from code as from the CLI: create it from a model directory,
// submit requests (completions resolve as they finish), close it. Lays out all shared memory once
// per job, starts the stage pools, and runs the coordinator on top.
import { RequestError } from '../errors.js';
import { Coordinator, type CoordinatorStats } from '../engine/coordinator.js';
import type { Completion, EngineOptions, GenerateRequest } from '../engine/types.js';
import { resolveBackend } from '../kernels/register-all.js';
import { BlockPool, BlockTables } from '../kv/block-pool.js';
import { kvBytesPerToken, viewKvStore } from '../kv/kv-store.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import { shardLayerColumns } from '../model/tensor-parallel.js';
import { viewBatchSlots } from '../model/workspace.js';
import { sharedTokenizer } from '../tokenizer/gpt2.js';
import { PipelineExecutor } from './executor.js';
import { headParts, planStages, type StagePlan } from './stage-plan.js';

export interface PipelineOptions extends EngineOptions {
  workers?: number;      // worker threads in all (default 1); mapped to stages × replicas × ranks by planStages
  stages?: number;       // force S stages ...
  replicas?: number;     // ... of R replicas each ...
  tensor?: number;       // ... of T tensor-parallel ranks each (threads = S × R × T)
  headWorkers?: number;  // or: a separate head stage split by vocabulary over H workers
  microBatches?: number; // batch slots in flight (default: workers, +1 with several stages)
  maxRetries?: number;   // recomputations of a micro-batch after a worker fault (default 2)
  /** Tests only: make the first `count` tasks of `stage` after `afterTasks` fail. */
  fault?: { stage: number; afterTasks: number; mode: 'exit' | 'throw'; count: number; poisonToken?: number };
}

const KV_BYTES_LIMIT = 1 << 30;

export class PipelineEngine {
  private constructor(readonly config: ModelConfig, readonly plan: StagePlan, readonly executor: PipelineExecutor,
    private readonly coordinator: Coordinator, readonly kvCacheTokens: number) {}

  static async create(modelDir: string, opts: PipelineOptions = {}): Promise<PipelineEngine> {
    const weights = loadCheckpoint(modelDir);
    const c = weights.layout.config;
    const maxSeqs = opts.maxSeqs ?? 32, blockSize = opts.blockSize ?? 16;
    const plan = planStages(c, { workers: opts.workers, stages: opts.stages, replicas: opts.replicas, tensor: opts.tensor, headWorkers: opts.headWorkers, seqs: maxSeqs });
    // tensor-parallel stages stream contiguous column shards of their weights (model/tensor-parallel.ts)
    for (const s of plan.stages) shardLayerColumns(weights.layers.slice(s.layerStart, s.layerEnd), c, s.tensor);
    const maxBlocksPerSeq = Math.ceil(c.nPositions / blockSize);
    const kvTokens = opts.kvCacheTokens ?? Math.min(maxSeqs * c.nPositions, Math.floor(KV_BYTES_LIMIT / kvBytesPerToken(c)));
    if (!Number.isInteger(kvTokens) || kvTokens < blockSize) {
      throw new RequestError('invalid_request', `kv_cache_tokens must be an integer ≥ block size ${blockSize}, got ${kvTokens}`);
    }
    const nBlocks = Math.ceil(kvTokens / blockSize);
    const tables = new BlockTables(new BlockPool(nBlocks), blockSize, maxSeqs, maxBlocksPerSeq);
    // micro-batches in flight: one per lane (a replica, or a tensor-parallel group, of each stage)
    // keeps every worker busy (measured: 2 workers on GPT-2 small, 258 tok/s with 2 vs 223 with 3,
    // since bigger micro-batches use the kernels better); a layer pipeline gets one more so a
    // stage never waits while the coordinator samples
    const lanes = plan.stages.reduce((n, s) => n + s.replicas, 0);
    const K = Math.max(opts.microBatches ?? (plan.stages.length > 1 ? lanes + 1 : lanes), plan.stages.length);
    const maxTokens = opts.maxBatchedTokens ?? 256;
    // each micro-batch samples at most its share of the running sequences, so K of them fill the pipeline
    const sharedActivations = plan.stages.some((s) => s.tensor > 1);
    const slotSpec = {
      maxTokens, maxLogitRows: Math.min(maxTokens, Math.ceil(maxSeqs / K)), count: K, sharedActivations,
      headParts: headParts(plan.stages[plan.stages.length - 1]),
    };
    const backend = resolveBackend(opts.backend ?? 'auto');
    const fault = opts.fault ? { ...opts.fault, remaining: counter(opts.fault.count) } : null;
    const executor = await PipelineExecutor.start(plan, {
      config: c, backend, params: weights.buffer, nBlocks, blockSize, blockTable: tables.buffer, maxBlocksPerSeq,
      kv: plan.stages.map((s) => viewKvStore(c, s.layerStart, s.layerEnd, nBlocks, blockSize).buffer),
      slots: viewBatchSlots(c, slotSpec), slotSpec, fault,
    }, opts.maxRetries ?? 2);
    const coordinator = new Coordinator(executor, c, tables, sharedTokenizer(), opts.seed ?? 0);
    return new PipelineEngine(c, plan, executor, coordinator, nBlocks * blockSize);
  }

  get backend(): string { return this.executor.backend; }
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
    return this.executor.close();
  }
}

function counter(v: number): SharedArrayBuffer {
  const b = new SharedArrayBuffer(4);
  new Int32Array(b)[0] = v;
  return b;
}
