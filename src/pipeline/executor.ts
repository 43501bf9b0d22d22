// Runs micro-batches through the stage pools (one piscina pool per stage, replicas × tensor
// threads each). The coordinator hands a slot to stage 0, then to each next stage when the
// previous one reports done; a split head gets one task per vocabulary shard, run in parallel by
// its replicas; a tensor-parallel stage gets one task per rank, run together (protocol.ts).
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Executor, StageSpan, StepResult } from '../engine/executor.js';
import type { ModelConfig } from '../model/config.js';
import type { KvFormat } from '../kv/kv-store.js';
import type { WeightFormat } from '../model/weight-format.js';
import type { BatchSlot, SlotSpec } from '../model/workspace.js';
import { abortBarrier, PARTNER_FAILED, resetBarrier } from './barrier.js';
import { CLAIM, DONE, PARTS_DONE, STEP, type FaultSpec, type StageInit, type StageResult, type StageTask } from './protocol.js';
import type { PlannedStage, StagePlan } from './stage-plan.js';

const WORKER = fileURLToPath(new URL('../../workers/stage-worker.js', import.meta.url));

export interface PipelineShared {
  config: ModelConfig;
  format: WeightFormat;     // of the linear weights in params
  backend: string;
  params: SharedArrayBuffer;
  kv: SharedArrayBuffer[];  // per stage
  kvFormat: KvFormat;       // their element type
  nBlocks: number;
  blockSize: number;
  blockTable: SharedArrayBuffer;
  maxBlocksPerSeq: number;
  slots: { buffer: SharedArrayBuffer; slots: BatchSlot[] };
  slotSpec: SlotSpec;
  fault: FaultSpec | null;
}

/**
 * A stage worker's JS allocates little per step (a task message, a few small arrays; activations
 * live in the shared slots), but V8 let each worker isolate's young generation grow to ~20 MiB of
 * resident memory during a job. Capped at 2 MiB: GPT-2-small int8 job peak RSS 383 → 370–378 MiB
 * with 2 workers, generation speed unchanged within noise (bench/README.md run H).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2 };

export class PipelineExecutor implements Executor {
  readonly slots: BatchSlot[];
  readonly maxTokens: number;
  readonly maxLogitRows: number;
  readonly backend: string;
  readonly headParts: number;
  /** Worker faults seen (each one retried). */
  faults: string[] = [];
  private readonly pools: Piscina[];
  private readonly gates: Gate[]; // per stage: at most `replicas` slots at once (tensor-parallel stages)
  private step = 0;

  private constructor(readonly plan: StagePlan, private readonly sh: PipelineShared, readonly maxRetries: number) {
    this.slots = sh.slots.slots;
    this.maxTokens = sh.slotSpec.maxTokens;
    this.maxLogitRows = sh.slotSpec.maxLogitRows;
    this.backend = sh.backend;
    this.headParts = sh.slotSpec.headParts ?? 1;
    this.pools = plan.stages.map((stage) => {
      const init: StageInit = {
        config: sh.config, format: sh.format, stage, backend: sh.backend, params: sh.params, kv: sh.kv[stage.index], kvFormat: sh.kvFormat,
        nBlocks: sh.nBlocks, blockSize: sh.blockSize, blockTable: sh.blockTable, maxBlocksPerSeq: sh.maxBlocksPerSeq,
        slots: sh.slots.buffer, slotSpec: sh.slotSpec, fault: sh.fault,
      };
      const threads = stage.replicas * stage.tensor;
      const pool = new Piscina({
        filename: WORKER, name: 'default', minThreads: threads, maxThreads: threads,
        idleTimeout: 2 ** 31 - 1, workerData: init, concurrentTasksPerWorker: 1, resourceLimits: WORKER_LIMITS,
      });
      // a dying worker is reported through its task's rejection and replaced by the pool;
      // this listener keeps an 'error' event from becoming an uncaught exception
      pool.on('error', (e: Error) => this.faults.push(`stage ${stage.index}: ${e.message}`));
      return pool;
    });
    this.gates = plan.stages.map((stage) => new Gate(stage.tensor > 1 ? stage.replicas : Infinity));
  }

  /** Starts every worker (weights mapped, kernels built) before the first step. */
  static async start(plan: StagePlan, shared: PipelineShared, maxRetries = 2): Promise<PipelineExecutor> {
    const ex = new PipelineExecutor(plan, shared, maxRetries);
    await Promise.all(ex.pools.flatMap((p, i) => Array.from({ length: p.options.maxThreads }, () => p.run({ kind: 'ping' }))));
    return ex;
  }

  async run(k: number, n: number): Promise<StepResult> {
    const spans: StageSpan[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        const m = await this.attempt(k, n, spans);
        return { m, spans, retries: attempt };
      } catch (e) {
        this.faults.push((e as Error).message);
        if (attempt >= this.maxRetries) {
          throw new Error(`micro-batch failed ${attempt + 1} times; last error: ${(e as Error).message}`);
        }
      }
    }
  }

  /** One pass of slot k through every stage. */
  private async attempt(k: number, n: number, spans: StageSpan[]): Promise<number> {
    const header = this.slots[k].header, step = ++this.step;
    Atomics.store(header, DONE, 0);
    resetBarrier(header); // every task of an earlier attempt has settled
    Atomics.store(header, STEP, step); // release: the batch rows written by the coordinator
    let m = 0;
    for (const stage of this.plan.stages) {
      Atomics.store(header, PARTS_DONE, 0);
      Atomics.store(header, CLAIM, 0);
      const results = await this.gates[stage.index].run(() => this.runStage(stage, { kind: 'step', slot: k, step, n, rank: 0, size: 1 }));
      results.forEach((r, i) => spans.push({
        stage: stage.index, worker: r.worker, start: r.start, end: r.end, rows: n, step,
        shard: results.length > 1 ? i : undefined, waitMs: r.waitMs || undefined,
      }));
      m = results[0].m;
      if (Atomics.load(header, PARTS_DONE) !== results.length) { // acquire: the stage's writes
        throw new Error(`slot ${k}: stage ${stage.index} returned ${results.length} results but marked ${Atomics.load(header, PARTS_DONE)} parts done`);
      }
      Atomics.store(header, DONE, stage.index + 1);
    }
    return m;
  }

  /**
   * One task, one per vocabulary shard, or one per tensor-parallel rank; waits for all of them to
   * settle before failing. A failed rank aborts the slot's barrier so that its partners return.
   */
  private async runStage(stage: PlannedStage, task: StageTask): Promise<StageResult[]> {
    const pool = this.pools[stage.index], header = this.slots[task.slot].header;
    let tasks: StageTask[] = [task];
    if (stage.vocabShards > 1) {
      tasks = Array.from({ length: stage.vocabShards }, (_, shard) => ({ ...task, rank: shard }));
    } else if (stage.tensor > 1) {
      tasks = Array.from({ length: stage.tensor }, (_, rank) => ({ ...task, rank, size: stage.tensor }));
    }
    const settled = await Promise.allSettled(tasks.map((t) => (pool.run(t) as Promise<StageResult>).catch((e: unknown) => {
      if (stage.tensor > 1) abortBarrier(header);
      throw e;
    })));
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => (s.reason as Error)?.message ?? String(s.reason));
    // report the cause, not the partners that the abort released
    if (failed.length) throw new Error(`stage ${stage.index}: ${failed.find((msg) => !msg.includes(PARTNER_FAILED)) ?? failed[0]}`);
    return settled.map((s) => (s as PromiseFulfilledResult<StageResult>).value);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}

/** At most `limit` callers inside run() at once; the rest wait in FIFO order. */
export class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // hand the place over: active stays the same
      else this.active--;
    }
  }
}
