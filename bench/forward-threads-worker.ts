// One thread of bench/forward-threads.ts: maps the shared weights, builds its own KV cache and
// workspace, prefills `rows` sequences of `context` tokens (untimed), then on the "go" message
// runs `steps` decode forwards of `rows` rows each, timing every kernel call by op and shape.
// No coordinator, no sampling, no messages inside the timed loop: the ceiling for one worker.
import { parentPort, workerData } from 'node:worker_threads';
import { registerAllKernels } from '../src/kernels/register-all.js';
import { kernelSet } from '../src/kernels/registry.js';
import { OPS, type KernelSet } from '../src/kernels/names.js';
import { BlockPool, BlockTables } from '../src/kv/block-pool.js';
import { viewKvStore } from '../src/kv/kv-store.js';
import type { ModelConfig } from '../src/model/config.js';
import { forward, type ForwardContext } from '../src/model/forward.js';
import { wholePart } from '../src/model/tensor-parallel.js';
import { planParams, viewParams } from '../src/model/param-layout.js';
import { allocWorkspace } from '../src/model/workspace.js';
import type { WeightFormat } from '../src/model/weight-format.js';
import type { KvFormat } from '../src/kv/kv-store.js';

// the engine's kv_cache_dtype auto: q8 with int8 weights, f16 with 16-bit ones, f32 with f32
const KV_FOR: Record<WeightFormat, KvFormat> = { f32: 'f32', bf16: 'f16', f16: 'f16', q8: 'q8' };

export interface ThreadInit { config: ModelConfig; params: SharedArrayBuffer; format: WeightFormat; backend: string; rows: number; context: number; steps: number }
export interface ThreadResult { decodeMs: number; stepMs: number[]; opMs: Record<string, number> }

const { config: c, params, format, backend, rows: M, context: L, steps } = workerData as ThreadInit;
registerAllKernels(backend);
const base = kernelSet(backend);
const opMs: Record<string, number> = {};
let timing = false;
// matmul and matmulQ8Rows are keyed by their shape (I×O): the four projections behave differently
const key = (op: string, a: unknown[]) => (op === 'matmul' ? `matmul ${a[5]}x${a[6]}` : op === 'matmulQ8Rows' ? `matmulQ8Rows ${a[7]}x${a[8]}` : op);
const timed = Object.fromEntries(OPS.map((op) => [op, (...a: unknown[]) => {
  const t = performance.now();
  (base[op] as (...x: unknown[]) => void)(...a);
  if (timing) opMs[key(op, a)] = (opMs[key(op, a)] ?? 0) + performance.now() - t;
}])) as unknown as KernelSet;

const blockSize = 16, maxBlocksPerSeq = Math.ceil(c.nPositions / blockSize);
const nBlocks = M * Math.ceil((L + steps) / blockSize);
const tables = new BlockTables(new BlockPool(nBlocks), blockSize, M, maxBlocksPerSeq);
const ws = allocWorkspace(c, 256, M);
const weights = viewParams(planParams(c, undefined, format), params), part = wholePart(weights.layers, c);
const ctx: ForwardContext = {
  config: c, kernels: timed, weights, kv: viewKvStore(c, KV_FOR[format], 0, c.nLayer, nBlocks, blockSize),
  blockTable: tables.table, maxBlocksPerSeq, ws,
};

/** Writes one batch row: token `tok` of sequence `s` at `pos`. */
function row(r: number, s: number, pos: number, needsLogits: boolean): void {
  ws.tokens[r] = (s * 7919 + pos * 104729) % c.vocabSize;
  ws.positions[r] = pos;
  ws.seqIds[r] = s;
  ws.slots[r] = tables.slot(s, pos);
  ws.needsLogits[r] = needsLogits ? 1 : 0;
}

// prefill, untimed, in chunks of ≤ 256 rows
for (let s = 0; s < M; s++) tables.reserve(tables.acquireSeq(), L + steps);
let n = 0;
for (let s = 0; s < M; s++) {
  for (let p = 0; p < L; p++) {
    row(n++, s, p, false);
    if (n === 256) { forward(ctx, n, part); n = 0; }
  }
}
if (n > 0) forward(ctx, n, part);

parentPort!.once('message', () => {
  timing = true;
  const stepMs: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    for (let s = 0; s < M; s++) row(s, s, L + i, true);
    forward(ctx, M, part);  // [M] tokens -> [M, V] logits
    stepMs.push(performance.now() - t);
  }
  const result: ThreadResult = { decodeMs: performance.now() - t0, stepMs, opMs };
  parentPort!.postMessage(result);
});
parentPort!.postMessage('ready');
