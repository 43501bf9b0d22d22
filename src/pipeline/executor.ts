// Runs micro-batches through the stage pools (one piscina pool per stage, `replicas` threads
// each). The coordinator hands a slot to stage 0, then to each next stage when the previous one
// reports done; a split head gets one task per vocabulary shard, run in parallel by its replicas.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Executor, StageSpan, StepResult } from '../engine/executor.js';
import type { ModelConfig } from '../model/config.js';
import type { BatchSlot, SlotSpec } from '../model/workspace.js';
import { DONE, SHARDS_DONE, STEP, type FaultSpec, type StageInit, type StageResult, type StageTask } from './protocol.js';
import type { PlannedStage, StagePlan } from './stage-plan.js';

const WORKER = fileURLToPath(new URL('../../workers/stage-worker.js', import.meta.url));

export interface PipelineShared {
  config: ModelConfig;
  backend: string;
  params: SharedArrayBuffer;
  kv: SharedArrayBuffer[];  // per stage
  nBlocks: number;
  blockSize: number;
  blockTable: SharedArrayBuffer;
  maxBlocksPerSeq: number;
  slots: { buffer: SharedArrayBuffer; slots: BatchSlot[] };
  slotSpec: SlotSpec;
  fault: FaultSpec | null;
}

export class PipelineExecutor implements Executor {
  readonly slots: BatchSlot[];
  readonly maxTokens: number;
  readonly maxLogitRows: number;
  readonly backend: string;
  /** Worker faults seen (each one retried). */
  faults: string[] = [];
  private readonly pools: Piscina[];
  private step = 0;

  private constructor(readonly plan: StagePlan, private readonly sh: PipelineShared, readonly maxRetries: number) {
    this.slots = sh.slots.slots;
    this.maxTokens = sh.slotSpec.maxTokens;
    this.maxLogitRows = sh.slotSpec.maxLogitRows;
    this.backend = sh.backend;
    this.pools = plan.stages.map((stage) => {
      const init: StageInit = {
        config: sh.config, stage, backend: sh.backend, params: sh.params, kv: sh.kv[stage.index],
        nBlocks: sh.nBlocks, blockSize: sh.blockSize, blockTable: sh.blockTable, maxBlocksPerSeq: sh.maxBlocksPerSeq,
        slots: sh.slots.buffer, slotSpec: sh.slotSpec, fault: sh.fault,
      };
      const pool = new Piscina({
        filename: WORKER, name: 'default', minThreads: stage.replicas, maxThreads: stage.replicas,
        idleTimeout: 2 ** 31 - 1, workerData: init, concurrentTasksPerWorker: 1,
      });
      // a dying worker is reported through its task's rejection and replaced by the pool;
      // this listener keeps an 'error' event from becoming an uncaught exception
      pool.on('error', (e: Error) => this.faults.push(`stage ${stage.index}: ${e.message}`));
      return pool;
    });
  }

  /** Starts every worker (weights mapped, kernels built) before the first step. */
  static async start(plan: StagePlan, shared: PipelineShared, maxRetries = 2): Promise<PipelineExecutor> {
    const ex = new PipelineExecutor(plan, shared, maxRetries);
    await Promise.all(ex.pools.flatMap((p, i) => Array.from({ length: plan.stages[i].replicas }, () => p.run({ kind: 'ping' }))));
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
    Atomics.store(header, SHARDS_DONE, 0);
    Atomics.store(header, STEP, step); // release: the batch rows written by the coordinator
    let m = 0;
    for (const stage of this.plan.stages) {
      const results = await this.runStage(stage, { kind: 'step', slot: k, step, n, vocab: null });
      results.forEach((r, i) => spans.push({ stage: stage.index, worker: r.worker, start: r.start, end: r.end, rows: n, step, shard: stage.vocabShards > 1 ? i : undefined }));
      m = results[0].m;
      if (stage.vocabShards > 1) {
        if (Atomics.load(header, SHARDS_DONE) !== stage.vocabShards) throw new Error(`slot ${k}: head shards incomplete`);
        Atomics.store(header, DONE, stage.index + 1);
      } else if (Atomics.load(header, DONE) !== stage.index + 1) {
        throw new Error(`slot ${k}: stage ${stage.index} returned without marking the slot done`);
      }
    }
    return m;
  }

  /** One task, or one per vocabulary shard; waits for all of them to settle before failing. */
  private async runStage(stage: PlannedStage, task: StageTask): Promise<StageResult[]> {
    const pool = this.pools[stage.index], V = this.sh.config.vocabSize;
    const tasks: StageTask[] = stage.vocabShards > 1
      ? Array.from({ length: stage.vocabShards }, (_, i) => {
        const w = Math.ceil(V / stage.vocabShards);
        return { ...task, vocab: [i * w, Math.min(V, (i + 1) * w)] as [number, number] };
      })
      : [task];
    const settled = await Promise.allSettled(tasks.map((t) => pool.run(t) as Promise<StageResult>));
    const bad = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (bad) throw new Error(`stage ${stage.index}: ${(bad.reason as Error)?.message ?? String(bad.reason)}`);
    return settled.map((s) => (s as PromiseFulfilledResult<StageResult>).value);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
