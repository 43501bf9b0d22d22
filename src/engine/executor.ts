// An Executor runs the forward pass of one micro-batch that the coordinator wrote into a batch
// slot. LocalExecutor does it in this thread; the pipeline executor (pipeline/executor.ts)
// sends it through the stage workers. Both run the same forward.ts.
import { forward, type ForwardContext } from '../model/forward.js';
import type { TensorPart } from '../model/tensor-parallel.js';
import type { BatchSlot } from '../model/workspace.js';

export interface StageSpan {
  stage: number;    // pipeline stage index
  worker: number;   // thread id of the worker that ran it (0 = this thread)
  start: number;    // wall-clock ms (performance.timeOrigin + now), comparable across threads
  end: number;
  shard?: number;   // vocabulary shard of a split LM head, or tensor-parallel rank
  waitMs?: number;  // of which spent waiting at tensor-parallel barriers
  rows: number;     // rows of the micro-batch (tokens processed)
  step: number;     // micro-batch id
}

export interface StepResult {
  m: number;            // rows of logits written (rows with needsLogits)
  spans: StageSpan[];   // what ran where, for profiles
  retries: number;      // micro-batch recomputations after a worker fault
}

export interface Executor {
  readonly slots: BatchSlot[];   // K micro-batch slots; K ≥ number of stages keeps every stage busy
  readonly backend: string;      // kernel backend that actually runs
  readonly maxTokens: number;    // rows per micro-batch
  readonly maxLogitRows: number;
  readonly headParts: number;    // vocabulary parts of the head: rows of BatchSlot.argIdx / argMax
  run(slot: number, n: number): Promise<StepResult>;
  close(): Promise<void>;
}

export const wallNow = (): number => performance.timeOrigin + performance.now();

export class LocalExecutor implements Executor {
  readonly slots: BatchSlot[];
  readonly maxTokens: number;
  readonly maxLogitRows: number;
  readonly headParts = 1;
  private steps = 0;
  constructor(private readonly ctx: ForwardContext, private readonly part: TensorPart, readonly backend: string) {
    this.slots = [ctx.ws];
    this.maxTokens = ctx.ws.maxTokens;
    this.maxLogitRows = ctx.ws.maxLogitRows;
  }
  async run(_slot: number, n: number): Promise<StepResult> {
    const start = wallNow();
    const m = forward(this.ctx, n, this.part);
    return { m, spans: [{ stage: 0, worker: 0, start, end: wallNow(), rows: n, step: ++this.steps }], retries: 0 };
  }
  async close(): Promise<void> {}
}
