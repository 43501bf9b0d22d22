// Profile traces: every stage span of one or more runs (one per worker count), stored with
// msgpackr as FILE.trace.msgpack, read back by the HTML report.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { StageSpan } from '../engine/executor.js';
import { describePlan, stageLabel, type StagePlan } from '../pipeline/stage-plan.js';
import { stageStats, type StageStats } from './stage-stats.js';

export interface TraceRun {
  workers: number;
  plan: string;
  stages: Array<{ index: number; label: string; replicas: number }>;
  t0: number;            // wall-clock ms, as the spans
  t1: number;
  spans: StageSpan[];
  promptTokens: number;
  generatedTokens: number;
  tokensPerS: number;    // generated tokens per wall second
  stats: StageStats[];
}

export interface Trace { magic: 'pipegpt-trace'; version: 1; model: string; created: string; runs: TraceRun[] }

export interface RunCapture { plan: StagePlan; t0: number; t1: number; spans: StageSpan[]; promptTokens: number; generatedTokens: number }

export function traceRun(r: RunCapture): TraceRun {
  return {
    workers: r.plan.workers, plan: describePlan(r.plan),
    stages: r.plan.stages.map((s) => ({ index: s.index, label: stageLabel(s), replicas: s.replicas })),
    t0: r.t0, t1: r.t1, spans: r.spans.map((s) => ({ ...s })), promptTokens: r.promptTokens, generatedTokens: r.generatedTokens,
    tokensPerS: r.generatedTokens / Math.max(1e-9, (r.t1 - r.t0) / 1000), stats: stageStats(r.plan, r.spans, r.t0, r.t1),
  };
}

export function makeTrace(model: string, runs: TraceRun[]): Trace {
  return { magic: 'pipegpt-trace', version: 1, model, created: new Date().toISOString(), runs };
}

export function writeTrace(file: string, t: Trace): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, pack(t));
}

export function readTrace(file: string): Trace {
  const t = unpack(readFileSync(file)) as Trace;
  if (t?.magic !== 'pipegpt-trace' || t.version !== 1) throw new Error(`${file}: not a pipegpt trace (version 1)`);
  return t;
}

/** "report.html" → "report.trace.msgpack". */
export function tracePathFor(report: string): string {
  return report.replace(/\.html?$/i, '') + '.trace.msgpack';
}

/** One lane per worker thread, ordered by stage then thread id. */
export function lanes(run: TraceRun): Array<{ stage: number; worker: number }> {
  const seen = new Map<string, { stage: number; worker: number }>();
  for (const s of run.spans) seen.set(`${s.stage}:${s.worker}`, { stage: s.stage, worker: s.worker });
  return [...seen.values()].sort((a, b) => a.stage - b.stage || a.worker - b.worker);
}
