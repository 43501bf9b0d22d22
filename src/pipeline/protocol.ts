// Every message between the coordinator (main thread) and the stage workers, in one place
// (piscina src/types.ts). Messages are small descriptors; activations never travel in them.
//
// Shared memory (all SharedArrayBuffers, laid out once per job):
//   params      every weight, one buffer for the whole model (model/param-layout.ts); a worker
//               views only the tensors of its stage. Read-only after load.
//   kv[stage]   K/V pages of the stage's layers (kv/kv-store.ts); replicas of a stage share it.
//   blockTable  [maxSeqs, maxBlocksPerSeq] block ids (kv/block-pool.ts); written by the coordinator.
//   slots       K batch slots (model/workspace.ts BatchSlot): the flat ragged batch, the residual
//               stream x [T, C] and the logits [M, V] of one micro-batch.
//
// Ownership and ordering rule for a batch slot k (the only memory two threads write in turn):
//   1. The coordinator owns slot k while it is free. It writes the batch rows, reserves the KV
//      blocks the rows need (append-only block tables: a block id a worker may read never moves
//      while the micro-batch is in flight), then Atomics.store(header[STEP], stepId) — a release:
//      every write before it is visible to a thread that Atomics.loads that value.
//   2. It sends stage 0 a StageTask {slot: k, step: stepId}. The worker Atomics.loads
//      header[STEP] (acquire) and refuses a task whose step does not match (a stale descriptor).
//      It now owns x and writes it in place; the last stage also writes logits (a vocabulary
//      shard writes only its own columns, so shards of one step never write the same bytes).
//   3. When done, the worker Atomics.adds 1 to header[PARTS_DONE] (release) and returns its
//      StageResult. Once every task of the stage has settled the coordinator Atomics.loads
//      PARTS_DONE (acquire), checks it equals the stage's task count, stores DONE = stage index + 1
//      and only then hands slot k to the next stage, so exactly one stage touches x at a time.
//      A stage runs several tasks on one slot in two cases:
//      - vocabulary shards (a head-only stage): each writes only its own logits columns;
//      - tensor-parallel ranks: T tasks {rank, size}, one per worker, run the whole stage
//        together, each writing its own columns / heads / rows of the slot's shared activations
//        and meeting at a barrier in the slot header between ops (ordering and failure:
//        pipeline/barrier.ts). The T tasks must run at the same time, so the executor lets a
//        stage of R·T threads hold at most R slots at once and submits a slot's T tasks together.
//   4. After the last stage the coordinator reads the logits, samples, and frees slot k.
//   A failed attempt is retried from stage 0 only after every task of that attempt has settled,
//   so no worker of an old attempt still writes the slot (embedding rewrites x from the tokens
//   and KV writes are idempotent: the retry recomputes the same values).
import type { KvFormat } from '../kv/kv-store.js';
import type { ModelConfig } from '../model/config.js';
import type { WeightFormat } from '../model/weight-format.js';
import type { SlotSpec } from '../model/workspace.js';
import type { PlannedStage } from './stage-plan.js';

/** Int32 fields of BatchSlot.header. */
export const STEP = 0; // step id of the micro-batch in the slot
export const DONE = 1; // stages completed (stage index + 1 of the last one); written by the coordinator
export const PARTS_DONE = 2; // tasks of the current stage completed (shards, ranks, or the one task)
export const BAR_COUNT = 3; // tensor-parallel barrier: ranks arrived ...
export const BAR_GEN = 4;   // ... its generation ...
export const BAR_ABORT = 5; // ... and 1 once a rank failed (pipeline/barrier.ts)
// next head piece to claim (tensor-parallel ranks, Atomics.add; tensor-parallel.ts headPieces);
// reset with PARTS_DONE by the coordinator before the stage's tasks are sent
export const CLAIM = 6;

/**
 * Fault injection for tests: the first `count` tasks of `stage` after `afterTasks` fail, or, with
 * poisonToken, every task of `stage` whose rows contain that token (a request that always fails).
 */
export interface FaultSpec {
  stage: number;
  afterTasks: number;
  mode: 'exit' | 'throw';
  remaining: SharedArrayBuffer; // Int32[1]: faults left, shared by every worker of the job
  poisonToken?: number;
}

/** workerData of a stage pool: everything a worker maps at start-up, once per job. */
export interface StageInit {
  config: ModelConfig;
  format: WeightFormat;     // how params holds the linear weights (model/weight-format.ts)
  stage: PlannedStage;
  backend: string;
  params: SharedArrayBuffer;
  kv: SharedArrayBuffer;
  kvFormat: KvFormat;       // its element type (kv/kv-store.ts)
  nBlocks: number;
  blockSize: number;
  blockTable: SharedArrayBuffer;
  maxBlocksPerSeq: number;
  slots: SharedArrayBuffer;
  slotSpec: SlotSpec;
  fault: FaultSpec | null;
}

/** Coordinator → stage worker: run your part of the micro-batch in `slot`. */
export interface StageTask {
  kind: 'step';
  slot: number;
  step: number;             // must equal header[STEP]
  n: number;                // rows
  rank: number;             // tensor-parallel rank in [0, size), or the vocabulary shard (stage-plan.ts headParts)
  size: number;             // tensor-parallel ranks that run this stage together (1: none)
}

/** Coordinator → stage worker: answer once start-up (weights mapped, kernels built) is done. */
export interface PingTask { kind: 'ping' }

/** Stage worker → coordinator. */
export interface StageResult {
  worker: number;  // threadId
  start: number;   // wall-clock ms, comparable across threads
  end: number;
  m: number;       // logits rows written (head stages), else 0
  waitMs: number;  // time spent waiting for partner ranks at barriers (tensor-parallel), else 0
  backend: string; // kernel backend that actually ran
}
