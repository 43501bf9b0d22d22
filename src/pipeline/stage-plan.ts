// Splits the model into pipeline stages and maps N worker threads onto them.
//
// Cost model, per token, in units of one transformer block (12·C² + 13·C multiply-adds; attention
// over the context is left out): the tied LM head costs V·C / (12·C² + 13·C) per sampled row —
// for GPT-2 small, 50257·768 / 7.09M ≈ 5.4 blocks, more than all 4 blocks of the shipped tiny
// model. Embeddings are a lookup (≈ 0).
//
// N workers map to layouts like this (`auto`), picking the smallest load per worker (ties: fewer
// stages, since each hop costs a message round trip):
//   A. S stages × R replicas × T tensor-parallel ranks (S·R·T = N): layers split into S
//      contiguous, cost-balanced ranges, embeddings in the first, ln_f + head in the last; the R
//      replicas of a stage share its weights and KV pages and take different micro-batches; the
//      T ranks of a replica run each micro-batch together, each on its share of every op
//      (model/tensor-parallel.ts). Auto uses T = 2 when N is even, there is a core for each
//      worker, the model is at least TP_MIN_EMBD wide and replicas would get micro-batches of
//      fewer than TP_MAX_ROWS rows (max_num_seqs / N): measured on 2 cores (GPT-2 small, greedy,
//      64 new tokens), 2 ranks gave 1.62× one worker with 8 prompts where 2 replicas gave 1.16×
//      (replicas split the few sequences into small batches, and a matmul streams all its weights
//      whatever its row count), 1.68–1.87× with 32 (replicas 1.64–1.82×), but 1.85× with 128
//      where replicas, with 64-row batches and no barriers, gave 1.92×. With more workers than
//      cores, barrier partners wait for a core; on a narrow model (the shipped one is 128 wide)
//      an op lasts microseconds and the ranks spent 16 % of their time at barriers: T = 1.
//   B. S = N - H block stages of 1 worker, then a head stage of H workers that splits the
//      vocabulary: each computes its slice of every sampled row's logits (sampling sees the
//      whole row). Chosen when the head outweighs a fair share of the work.
// --stages S and --replicas R force layout A with that S and R; --head-workers H forces layout B
// (S block stages, default 1, plus a head stage of H vocabulary shards).
// On one machine replicas cost no extra memory (they share the SharedArrayBuffers), so for
// throughput they usually balance better than a layer split; stages pay off when a stage's
// weights fit a cache, and they are how a model is split across machines.
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { headPieces } from '../model/tensor-parallel.js';

export interface PlannedStage {
  index: number;
  layerStart: number;   // inclusive
  layerEnd: number;     // exclusive
  embeddings: boolean;
  head: boolean;
  replicas: number;     // micro-batches this stage runs at once ...
  tensor: number;       // ... each by this many tensor-parallel ranks (threads = replicas × tensor)
  vocabShards: number;  // > 1: the head is split by vocabulary over the replicas
  cost: number;         // in block units (see above)
}

export interface StagePlan {
  stages: PlannedStage[];
  workers: number;
  loadPerWorker: number; // max over stages of cost / parallel workers: the pipeline's bottleneck
}

/** Narrowest model the planner splits tensor-parallel on its own (GPT-2 small is 768 wide). */
export const TP_MIN_EMBD = 512;
/** Replica micro-batches of at least this many rows run matmuls about as well as bigger ones. */
export const TP_MAX_ROWS = 32;

export function headCost(c: ModelConfig): number {
  return (c.vocabSize * c.nEmbd) / (12 * c.nEmbd * c.nEmbd + 13 * c.nEmbd);
}

/** Contiguous split of `costs` into k parts minimising the largest part (exact DP). */
export function balancedSplit(costs: number[], k: number): number[] {
  const n = costs.length, pre = [0];
  for (const c of costs) pre.push(pre[pre.length - 1] + c);
  const best = Array.from({ length: k + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: k + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0][0] = 0;
  for (let p = 1; p <= k; p++) {
    for (let i = p; i <= n; i++) {
      for (let j = p - 1; j < i; j++) {
        const v = Math.max(best[p - 1][j], pre[i] - pre[j]);
        if (v < best[p][i]) { best[p][i] = v; cut[p][i] = j; }
      }
    }
  }
  const ends: number[] = [];
  for (let p = k, i = n; p > 0; i = cut[p][i], p--) ends.unshift(i);
  return ends; // ends[p] = exclusive end index of part p
}

function layoutA(c: ModelConfig, S: number, R: number, T = 1): StagePlan {
  const costs = [...new Array<number>(c.nLayer).fill(1)];
  costs[c.nLayer - 1] += headCost(c); // the head rides with the last layer
  const ends = balancedSplit(costs, S);
  const stages = ends.map((end, i): PlannedStage => {
    const start = i === 0 ? 0 : ends[i - 1];
    const cost = costs.slice(start, end).reduce((a, b) => a + b, 0);
    return { index: i, layerStart: start, layerEnd: end, embeddings: i === 0, head: i === S - 1, replicas: R, tensor: T, vocabShards: 1, cost };
  });
  return { stages, workers: S * R * T, loadPerWorker: Math.max(...stages.map((s) => s.cost / (R * T))) };
}

function layoutB(c: ModelConfig, N: number, H: number): StagePlan {
  const S = N - H;
  const ends = balancedSplit(new Array<number>(c.nLayer).fill(1), S);
  const stages = ends.map((end, i): PlannedStage => {
    const start = i === 0 ? 0 : ends[i - 1];
    return { index: i, layerStart: start, layerEnd: end, embeddings: i === 0, head: false, replicas: 1, tensor: 1, vocabShards: 1, cost: end - start };
  });
  stages.push({ index: S, layerStart: c.nLayer, layerEnd: c.nLayer, embeddings: false, head: true, replicas: H, tensor: 1, vocabShards: H, cost: headCost(c) });
  return { stages, workers: N, loadPerWorker: Math.max(...stages.map((s) => s.cost / s.vocabShards)) };
}

export interface PlanRequest {
  workers?: number; stages?: number; replicas?: number; tensor?: number; headWorkers?: number;
  cores?: number; // CPU cores for the auto layout (default: this machine's)
  seqs?: number;  // sequences running at once (max_num_seqs, default 32), for the auto layout
}

export function planStages(c: ModelConfig, req: PlanRequest): StagePlan {
  const check = (name: string, v: number | undefined, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max)) {
      throw new UsageError(`--${name} must be an integer in [1, ${max}], got ${v}`);
    }
  };
  check('stages', req.stages, c.nLayer);
  check('replicas', req.replicas, 64);
  check('workers', req.workers, 256);
  check('head-workers', req.headWorkers, 64);
  check('tensor-parallel', req.tensor, c.nHead);
  if (req.headWorkers !== undefined) {
    if (req.replicas !== undefined || req.tensor !== undefined) throw new UsageError('--head-workers cannot be combined with --replicas or --tensor-parallel');
    const S = req.stages ?? 1, N = S + req.headWorkers;
    if (req.workers !== undefined && req.workers !== N) {
      throw new UsageError(`--workers ${req.workers} does not equal --stages ${S} + --head-workers ${req.headWorkers}`);
    }
    return layoutB(c, N, req.headWorkers);
  }
  if (req.stages !== undefined || req.replicas !== undefined || req.tensor !== undefined) {
    const S = req.stages ?? 1, T = req.tensor ?? 1;
    let R = req.replicas ?? 1;
    if (req.replicas === undefined && req.workers !== undefined && req.workers % (S * T) === 0) R = req.workers / (S * T);
    if (req.workers !== undefined && req.workers !== S * R * T) {
      throw new UsageError(`--workers ${req.workers} does not equal --stages ${S} × --replicas ${R} × --tensor-parallel ${T}`);
    }
    return layoutA(c, S, R, T);
  }
  const N = req.workers ?? 1, cores = req.cores ?? availableParallelism();
  const smallBatches = (req.seqs ?? 32) / N < TP_MAX_ROWS;
  const T = N % 2 === 0 && N <= cores && c.nHead >= 2 && c.nEmbd >= TP_MIN_EMBD && smallBatches ? 2 : 1, lanes = N / T;
  const candidates: StagePlan[] = [];
  for (let S = 1; S <= Math.min(lanes, c.nLayer); S++) if (lanes % S === 0) candidates.push(layoutA(c, S, lanes / S, T));
  for (let H = 1; H < N && N - H <= c.nLayer; H++) candidates.push(layoutB(c, N, H));
  candidates.sort((a, b) => a.loadPerWorker - b.loadPerWorker || a.stages.length - b.stages.length);
  return candidates[0];
}

/**
 * Vocabulary parts a head stage computes its logits in: its shards, the pieces its
 * tensor-parallel ranks claim, or 1. Part p holds ids shareOf(V, p, parts, 8).
 */
export function headParts(s: PlannedStage): number {
  return s.vocabShards > 1 ? s.vocabShards : s.tensor > 1 ? headPieces(s.tensor) : 1;
}

/** "emb+L0-5", "L6-11+head", "head/2": what a stage holds. */
export function stageLabel(s: PlannedStage): string {
  return [s.embeddings ? 'emb' : '', s.layerEnd > s.layerStart ? `L${s.layerStart}-${s.layerEnd - 1}` : '',
    s.head ? (s.vocabShards > 1 ? `head/${s.vocabShards}` : 'head') : ''].filter(Boolean).join('+');
}

export function describePlan(p: StagePlan): string {
  return p.stages.map((s) => `stage ${s.index}: ${stageLabel(s)} ×${s.replicas}${s.tensor > 1 ? ` (tensor-parallel ×${s.tensor})` : ''}`).join(', ');
}
