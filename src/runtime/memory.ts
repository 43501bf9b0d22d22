// A job's memory as a table (llm.c): every SharedArrayBuffer the job holds — weights, KV pages
// per stage, the block table, the batch slots, each worker's scratch — sized from the model's
// size tables and the options, checked against the machine BEFORE anything is allocated, then
// allocated here, once. Both engines lay out their memory through this file only.
//
// Legend: P = context length, B = tokens per KV block, S = max sequences, K = batch slots.
import { totalmem } from 'node:os';
import { MemoryPlanError } from '../errors.js';
import { BlockPool, BlockTables } from '../kv/block-pool.js';
import { kvBytesPerToken, viewKvStore, type KvFormat, type KvStore } from '../kv/kv-store.js';
import type { ModelConfig } from '../model/config.js';
import { batchSlotsBytes, scratchBytes, viewBatchSlots, type BatchSlot, type SlotSpec } from '../model/workspace.js';
import { KV_BYTES_DEFAULT } from './options.js';

export interface LayerRange { layerStart: number; layerEnd: number }

/** One kind of thread and how many of them: each gets its own scratch (workspace.ts allocScratch). */
export interface ScratchSpec { threads: number; activations: boolean }

export interface MemoryRequest {
  weightsBytes: number;
  maxSeqs: number;
  maxBatchedTokens: number;
  kvCacheTokens?: number;        // default: S·P capped at KV_BYTES_DEFAULT, at least one full context
  kvFormat: KvFormat;            // the cache's element type (kv/kv-store.ts chooseKvFormat)
  blockSize: number;
  stages: LayerRange[];          // one KV store per stage
  slots: SlotSpec;               // K batch slots
  scratch: ScratchSpec[];
}

export interface MemoryPlan {
  blockSize: number;
  nBlocks: number;
  maxBlocksPerSeq: number;       // ceil(P / B): a block table row holds one full context
  maxSeqs: number;
  kvTokens: number;              // nBlocks · B
  kvFormat: KvFormat;
  stages: LayerRange[];
  slots: SlotSpec;
  parts: Array<[string, number]>; // the table: what, bytes
  totalBytes: number;
}

export interface JobMemory {
  tables: BlockTables;
  kv: KvStore[];                 // per stage
  slots: { buffer: SharedArrayBuffer; slots: BatchSlot[] };
}

const GiB = 2 ** 30;
const fmtBytes = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** Bookkeeping is per sequence and per row (JS arrays, a block table row each): beyond these a job is a typo. */
const MAX_SEQS = 1 << 16, MAX_BATCHED_TOKENS = 1 << 20;

function positiveInt(name: string, v: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new MemoryPlanError(`${name} must be an integer ≥ ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}, got ${v}`);
  }
  return v;
}

/** Sizes every buffer of a job and checks the sum fits this machine; allocates nothing. */
export function planMemory(c: ModelConfig, req: MemoryRequest): MemoryPlan {
  const B = positiveInt('block size', req.blockSize), S = positiveInt('max_num_seqs', req.maxSeqs, 1, MAX_SEQS);
  positiveInt('max_num_batched_tokens', req.maxBatchedTokens, 1, MAX_BATCHED_TOKENS);
  const maxBlocksPerSeq = Math.ceil(c.nPositions / B);
  const perToken = kvBytesPerToken(c, req.kvFormat);
  const wanted = req.kvCacheTokens ?? Math.min(S * c.nPositions, Math.floor(KV_BYTES_DEFAULT / perToken));
  positiveInt('kv_cache_tokens', wanted, B);
  // at least one full context, or a long request could never run
  const nBlocks = Math.max(maxBlocksPerSeq, Math.ceil(wanted / B));
  const kvTokens = nBlocks * B;
  const parts: Array<[string, number]> = [
    ['weights', req.weightsBytes],
    [`KV cache (${kvTokens} tokens × ${perToken} bytes, ${req.kvFormat})`, kvTokens * perToken],
    [`block table (${S} sequences × ${maxBlocksPerSeq} blocks)`, S * maxBlocksPerSeq * 4],
    [`batch slots (${req.slots.count} × ${req.slots.maxTokens} rows)`, batchSlotsBytes(c, req.slots)],
    ...req.scratch.map((s): [string, number] => [`scratch (${s.threads} thread(s))`, s.threads * scratchBytes(c, req.slots.maxTokens, req.slots.maxLogitRows, s.activations)]),
  ];
  const totalBytes = parts.reduce((a, [, b]) => a + b, 0);
  const machine = totalmem();
  if (!(totalBytes < machine)) {
    throw new MemoryPlanError(`the job needs ${fmtBytes(totalBytes)} (${parts.map(([k, b]) => `${k}: ${fmtBytes(b)}`).join('; ')}) ` +
      `but this machine has ${fmtBytes(machine)} in all; lower kv_cache_tokens, max_num_seqs or max_num_batched_tokens`);
  }
  return { blockSize: B, nBlocks, maxBlocksPerSeq, maxSeqs: S, kvTokens, kvFormat: req.kvFormat, stages: req.stages, slots: req.slots, parts, totalBytes };
}

/** Allocates the KV stores, block table and batch slots of a plan (weights are loaded by the caller). */
export function allocateMemory(c: ModelConfig, plan: MemoryPlan): JobMemory {
  try {
    const tables = new BlockTables(new BlockPool(plan.nBlocks), plan.blockSize, plan.maxSeqs, plan.maxBlocksPerSeq);
    const kv = plan.stages.map((s) => viewKvStore(c, plan.kvFormat, s.layerStart, s.layerEnd, plan.nBlocks, plan.blockSize));
    return { tables, kv, slots: viewBatchSlots(c, plan.slots) };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new MemoryPlanError(`cannot allocate the job's ${fmtBytes(plan.totalBytes)} (${e.message}); lower kv_cache_tokens, max_num_seqs or max_num_batched_tokens`);
  }
}

/** The plan as lines for `inspect` and the run summary. */
export function formatMemoryPlan(plan: MemoryPlan): string[] {
  return [...plan.parts.map(([k, b]) => `${k}: ${fmtBytes(b)}`), `total: ${fmtBytes(plan.totalBytes)}`];
}
