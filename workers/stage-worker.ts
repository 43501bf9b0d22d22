// A pipeline stage worker (one piscina task = this stage's part of one micro-batch). Start-up,
// once per job: map the shared weights, KV pages, block table and batch slots, build kernels.
// Each task then runs forward.ts on the slot in place, whole or as one tensor-parallel rank.
// Ordering rules: src/pipeline/protocol.ts.
import { threadId, workerData } from 'node:worker_threads';
import { registerAllKernels } from '../src/kernels/register-all.js';
import { kernelSet } from '../src/kernels/registry.js';
import { blocks, embed, head, headInput, headLogits, type ForwardContext } from '../src/model/forward.js';
import { rankLinears, shareOf, wholePart, type TensorPart } from '../src/model/tensor-parallel.js';
import { fullModelStage, planParams, viewParams } from '../src/model/param-layout.js';
import { allocScratch, viewBatchSlots, workspaceOf } from '../src/model/workspace.js';
import { viewKvStore } from '../src/kv/kv-store.js';
import { abortBarrier, SlotBarrier } from '../src/pipeline/barrier.js';
import { headParts } from '../src/pipeline/stage-plan.js';
import { CLAIM, DONE, PARTS_DONE, STEP, type PingTask, type StageInit, type StageResult, type StageTask } from '../src/pipeline/protocol.js';

const init = workerData as StageInit;
const { config: c, stage } = init;
registerAllKernels(init.backend);
const kernels = kernelSet(init.backend);
const weights = viewParams(planParams(c, fullModelStage(c), init.format), init.params);
const kv = viewKvStore(c, init.kvFormat, stage.layerStart, stage.layerEnd, init.nBlocks, init.blockSize, init.kv);
const blockTable = new Int32Array(init.blockTable);
const { slots } = viewBatchSlots(c, init.slotSpec, init.slots);
const T = stage.tensor, V = c.vocabSize;
// the head's vocabulary parts (shards, or pieces of a tensor-parallel head), each written in place into the slot's logits
const vocabParts = headParts(stage), partIds = (p: number) => shareOf(V, p, vocabParts, 8);
const scratch = allocScratch(c, init.slotSpec.maxTokens, init.slotSpec.maxLogitRows, T === 1);
// one context (and, tensor-parallel, one barrier) per slot, built once: the step loop allocates nothing
const contexts: ForwardContext[] = slots.map((slot) => ({
  config: c, kernels, weights, kv, blockTable, maxBlocksPerSeq: init.maxBlocksPerSeq,
  ws: workspaceOf(slot, scratch, init.slotSpec.maxTokens, init.slotSpec.maxLogitRows, T > 1),
}));
// a task may be any rank: every rank's linears (the engine laid the weights out as T ranks' column shards at load)
const stageLayers = weights.layers.slice(stage.layerStart, stage.layerEnd);
const linears = Array.from({ length: T }, (_, rank) => rankLinears(stageLayers, c, rank, T));
const whole = wholePart(stageLayers, c);
const barriers = slots.map((slot) => new SlotBarrier(slot.header, T));
const parts: TensorPart[][] = barriers.map((barrier, k) => {
  const header = slots[k].header, claim = (count: number) => { const i = Atomics.add(header, CLAIM, 1); return i < count ? i : -1; };
  return Array.from({ length: T }, (_, rank) => ({ rank, size: T, barrier: () => barrier.wait(), claim, layers: linears[rank] }));
});
const faults = init.fault ? new Int32Array(init.fault.remaining) : null;
let tasksRun = 0;

function maybeFault(tokens: Int32Array, n: number): void {
  const f = init.fault;
  if (!f || !faults || f.stage !== stage.index) return;
  if (f.poisonToken !== undefined) {
    if (tokens.subarray(0, n).includes(f.poisonToken)) throw new Error(`injected fault in stage ${stage.index} (poison token ${f.poisonToken})`);
    return;
  }
  if (tasksRun <= f.afterTasks) return;
  if (Atomics.sub(faults, 0, 1) <= 0) return; // no faults left (value may go negative: harmless)
  if (f.mode === 'exit') process.exit(1);      // in a worker thread this ends the thread only
  throw new Error(`injected fault in stage ${stage.index}`);
}

export default function run(task: StageTask | PingTask): StageResult | null {
  if (task.kind === 'ping') return null;
  const start = performance.timeOrigin + performance.now();
  const ctx = contexts[task.slot], header = ctx.ws.header;
  const step = Atomics.load(header, STEP); // acquire: the coordinator's writes are visible
  if (step !== task.step) throw new Error(`slot ${task.slot} holds step ${step}, task is for step ${task.step}`);
  if (stage.index > 0 && Atomics.load(header, DONE) !== stage.index) {
    throw new Error(`slot ${task.slot}: stage ${stage.index} started before stage ${stage.index - 1} finished`);
  }
  tasksRun++;
  barriers[task.slot].waitedMs = 0;
  let m = 0;
  try {
    maybeFault(ctx.ws.tokens, task.n);
    m = task.size > 1 ? runRank(ctx, task, parts[task.slot][task.rank]) : runWhole(ctx, task);
  } catch (e) {
    if (task.size > 1) abortBarrier(header); // release the partner ranks waiting for this one
    throw e;
  }
  Atomics.add(header, PARTS_DONE, 1); // release: this task's writes to x (and logits) are complete
  return { worker: threadId, start, end: performance.timeOrigin + performance.now(), m, backend: init.backend, waitMs: barriers[task.slot].waitedMs };
}

function runWhole(ctx: ForwardContext, task: StageTask): number {
  if (stage.embeddings) embed(ctx, task.n, whole);
  blocks(ctx, task.n, stage.layerStart, stage.layerEnd, whole);
  if (!stage.head) return 0;
  if (stage.vocabShards === 1) return head(ctx, task.n);
  const [v0, v1] = partIds(task.rank);
  return head(ctx, task.n, v0, v1, task.rank);
}

/** One rank of a tensor-parallel stage: its rows of the embeddings, its share of every layer, and the head pieces it claims. */
function runRank(ctx: ForwardContext, task: StageTask, part: TensorPart): number {
  if (task.size !== T || part.rank !== task.rank) throw new Error(`stage ${stage.index} has ${T} tensor-parallel ranks, task is rank ${task.rank} of ${task.size}`);
  if (stage.embeddings) {
    embed(ctx, task.n, part);
    part.barrier(); // x complete: every rank's rows
  }
  blocks(ctx, task.n, stage.layerStart, stage.layerEnd, part); // returns with x complete
  if (!stage.head) return 0;
  const m = headInput(ctx, task.n); // every rank normalizes the m rows itself
  for (let p; (p = part.claim(vocabParts)) >= 0;) {
    const [v0, v1] = partIds(p);
    headLogits(ctx, m, v0, v1, p);
  }
  return m;
}
