// Synthetic workloads for `pipegpt profile` and `pipegpt bench`: B requests of PP prompt tokens
// (deterministic ids) generating exactly TG tokens each (greedy, ignore_eos), all submitted at once.
import type { GenerateRequest, RequestFailure } from '../engine/types.js';
import { PipelineEngine } from '../runtime/pipeline-engine.js';
import type { EngineOptions } from '../runtime/options.js';
import type { RunCapture } from './trace.js';

export interface Synthetic { inputLen: number; outputLen: number; batch: number }

export function syntheticRequests(w: Synthetic, vocabSize: number): GenerateRequest[] {
  return Array.from({ length: w.batch }, (_, i) => ({
    id: `synthetic-${i}`,
    prompt_token_ids: Array.from({ length: w.inputLen }, (_, j) => (i * 7919 + j * 104729 + 13) % Math.min(vocabSize, 50000)),
    sampling: { max_tokens: w.outputLen, temperature: 0, ignore_eos: true },
  }));
}

export interface BenchRow {
  workers: number; pp: number; tg: number; b: number; nKv: number;
  tPp: number; sPp: number; tTg: number; sTg: number; t: number; s: number;
}

export interface SyntheticResult { capture: RunCapture; row: BenchRow; failed: RequestFailure[] }

const wallNow = () => performance.timeOrigin + performance.now();

/** Runs one synthetic batch on a started engine. Prefill ends when the last request has its first token. */
export async function runSynthetic(engine: PipelineEngine, w: Synthetic, spans = true): Promise<SyntheticResult> {
  const reqs = syntheticRequests(w, engine.config.vocabSize);
  const firstAt = new Map<string, number>();
  engine.onToken = (id, _c, i, t) => { if (i === 0) firstAt.set(id, t); };
  engine.stats.spans.length = 0;
  engine.recordSpans = spans;
  const p0 = engine.stats.promptTokens, g0 = engine.stats.generatedTokens;
  const t0 = wallNow(), start = performance.now();
  const done = await engine.generate(reqs);
  const end = performance.now(), t1 = wallNow();
  engine.onToken = undefined;
  engine.recordSpans = false;
  const prefillEnd = Math.max(start, ...firstAt.values());
  const tPp = (prefillEnd - start) / 1000, tTg = (end - prefillEnd) / 1000, t = (end - start) / 1000;
  const B = w.batch, PP = w.inputLen, TG = w.outputLen;
  const row: BenchRow = {
    workers: engine.plan.workers, pp: PP, tg: TG, b: B, nKv: B * (PP + TG),
    tPp, sPp: (B * PP) / Math.max(1e-9, tPp), tTg, sTg: (B * Math.max(0, TG - 1)) / Math.max(1e-9, tTg), t, s: (B * (PP + TG)) / Math.max(1e-9, t),
  };
  const capture: RunCapture = {
    plan: engine.plan, t0, t1, spans: [...engine.stats.spans], promptTokens: engine.stats.promptTokens - p0, generatedTokens: engine.stats.generatedTokens - g0,
  };
  engine.stats.spans.length = 0;
  return { capture, row, failed: done.flatMap((c) => (c.error ? [c.error] : [])) };
}

export async function withEngine<T>(model: string, opts: EngineOptions, fn: (e: PipelineEngine) => Promise<T>): Promise<T> {
  const engine = await PipelineEngine.create(model, opts);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

export function formatBenchTable(rows: BenchRow[]): string {
  const head = ['workers', 'PP', 'TG', 'B', 'N_KV', 'T_PP s', 'S_PP t/s', 'T_TG s', 'S_TG t/s', 'T s', 'S t/s'];
  const cells = rows.map((r) => [r.workers, r.pp, r.tg, r.b, r.nKv].map(String)
    .concat([r.tPp.toFixed(3), r.sPp.toFixed(1), r.tTg.toFixed(3), r.sTg.toFixed(1), r.t.toFixed(3), r.s.toFixed(1)]));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padStart(w[i])).join(' | ') + ' |';
  return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}
