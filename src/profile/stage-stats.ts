// Per-stage throughput from the spans the executor reports: how busy each stage's workers were
// over a wall-clock window, the bubble (idle) share, and tokens per busy second.
import type { StageSpan } from '../engine/executor.js';
import { stageLabel, type StagePlan } from '../pipeline/stage-plan.js';

export interface StageStats {
  stage: number;
  what: string;         // e.g. "emb+L0-5"
  workers: number;      // threads: replicas × tensor-parallel ranks
  tasks: number;
  busyMs: number;       // summed over the stage's workers
  busyPct: number;      // busyMs / (window · workers)
  bubblePct: number;    // 100 - busyPct
  barrierPct: number;   // share of the window spent waiting at tensor-parallel barriers (part of busy)
  tokensPerBusyS: number; // rows processed per second of one worker's busy time
}

/** Stats over [t0, t1) (wall-clock ms); spans are clipped to the window. */
export function stageStats(plan: StagePlan, spans: StageSpan[], t0: number, t1: number): StageStats[] {
  return statsFromTotals(plan, addStageTotals(plan, emptyTotals(plan), spans, t0, t1), t1 - t0);
}

/** Running per-stage sums, so a long job can fold its spans in batches and drop them. */
export interface StageTotals { busyMs: number; waitMs: number; tasks: number; rows: number }

export function emptyTotals(plan: StagePlan): StageTotals[] {
  return plan.stages.map(() => ({ busyMs: 0, waitMs: 0, tasks: 0, rows: 0 }));
}

/** Adds the spans (clipped to [t0, t1)) to `totals` and returns it. */
export function addStageTotals(plan: StagePlan, totals: StageTotals[], spans: StageSpan[], t0: number, t1: number): StageTotals[] {
  for (const sp of spans) {
    const tot = totals[plan.stages.findIndex((s) => s.index === sp.stage)];
    if (!tot) continue;
    const a = Math.max(sp.start, t0), b = Math.min(sp.end, t1);
    if (b <= a) continue;
    tot.busyMs += b - a;
    tot.waitMs += ((sp.waitMs ?? 0) * (b - a)) / (sp.end - sp.start); // clipped like the span
    tot.tasks++;
    tot.rows += sp.shard === undefined || sp.shard === 0 ? sp.rows : 0; // count a split stage's rows once
  }
  return totals;
}

export function statsFromTotals(plan: StagePlan, totals: StageTotals[], windowMs: number): StageStats[] {
  const window = Math.max(1e-9, windowMs);
  return plan.stages.map((s, i) => {
    const { busyMs: busy, waitMs, tasks, rows } = totals[i];
    const threads = s.replicas * s.tensor, parts = s.vocabShards > 1 ? s.vocabShards : s.tensor;
    const busyPct = (100 * busy) / (window * threads);
    return {
      stage: s.index, what: stageLabel(s), workers: threads, tasks, busyMs: busy,
      busyPct, bubblePct: 100 - busyPct, barrierPct: (100 * waitMs) / (window * threads),
      tokensPerBusyS: busy > 0 ? (rows * 1000 * parts) / busy : 0,
    };
  });
}

export function formatStageTable(stats: StageStats[]): string {
  const head = ['stage', 'layers', 'workers', 'tasks', 'busy %', 'barrier %', 'bubble %', 'tok/busy-s'];
  const rows = stats.map((s) => [String(s.stage), s.what, String(s.workers), String(s.tasks), s.busyPct.toFixed(1), s.barrierPct.toFixed(1), s.bubblePct.toFixed(1), s.tokensPerBusyS.toFixed(0)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(w[i])).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
