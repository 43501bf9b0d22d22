// The end-of-job summary: counts, throughput, latencies, preemptions, the backend that ran and
// per-stage busy share. One object (--metrics-json) and its text form (stderr).
import { describePlan, type StagePlan } from '../pipeline/stage-plan.js';
import { formatStageTable, type StageStats } from '../profile/stage-stats.js';
import type { LatencySummary, TokenTimer } from './latency.js';
import type { StructuredStats } from '../structured/grammars.js';

export interface JobMetrics {
  requests: { total: number; ok: number; failed: number; skipped_done: number; not_run: number };
  tokens: { prompt: number; generated: number };
  /** Prompt tokens at each sequence's first admission: computed, or shared (prefix cache hits, n > 1 forks). */
  prefix_cache: { prompt_tokens_computed: number; prompt_tokens_cached: number; hit_rate: number };
  throughput: { prompt_tokens_per_s: number; generated_tokens_per_s: number; requests_per_s: number };
  latency_ms: { ttft: LatencySummary; tpot: LatencySummary; itl: LatencySummary };
  /** Structured outputs: distinct grammars compiled, requests that reused one, time compiling and filling masks. */
  structured_outputs: { grammars_compiled: number; cache_hits: number; compile_ms: number; mask_ms: number; masks: number } | null;
  preemptions: number;
  backend: string;
  kernel_path: string | null;  // the native SIMD path (avx512-vnni, avx2-fma, portable), null for other backends
  weights: string;             // format of the linear weights: f32, bf16, f16, q8
  kv_cache: string;            // element type of the KV cache: f32, f16 (kv_cache_dtype)
  load_s: number;              // model load and worker start-up, before the first request
  plan: string;
  workers: number;
  stages: StageStats[];
  wall_s: number;
  interrupted: boolean;
}

export interface MetricsInput {
  total: number; ok: number; failed: number; skipped: number; promptTokens: number; generatedTokens: number;
  promptTokensComputed: number; promptTokensCached: number;
  structured: StructuredStats | null;
  timer: TokenTimer; preemptions: number; backend: string; kernelPath: string | null; weights: string; kvCache: string; loadS: number;
  plan: StagePlan; stages: StageStats[];
  t0: number; t1: number; interrupted: boolean;
}

/** t0/t1 are wall-clock ms (Date.now()-comparable, as the spans are). */
export function buildMetrics(m: MetricsInput): JobMetrics {
  const s = Math.max(1e-9, (m.t1 - m.t0) / 1000);
  return {
    requests: { total: m.total, ok: m.ok, failed: m.failed, skipped_done: m.skipped, not_run: Math.max(0, m.total - m.ok - m.failed - m.skipped) },
    tokens: { prompt: m.promptTokens, generated: m.generatedTokens },
    prefix_cache: prefixCache(m.promptTokensComputed, m.promptTokensCached),
    throughput: { prompt_tokens_per_s: m.promptTokens / s, generated_tokens_per_s: m.generatedTokens / s, requests_per_s: (m.ok + m.failed) / s },
    latency_ms: { ttft: m.timer.ttft.summary(), tpot: m.timer.tpot.summary(), itl: m.timer.itl.summary() },
    structured_outputs: m.structured === null ? null : {
      grammars_compiled: m.structured.compiled, cache_hits: m.structured.cacheHits, compile_ms: m.structured.compileMs,
      mask_ms: m.structured.maskMs, masks: m.structured.masks,
    },
    preemptions: m.preemptions, backend: m.backend, kernel_path: m.kernelPath, weights: m.weights, kv_cache: m.kvCache, load_s: m.loadS,
    plan: describePlan(m.plan), workers: m.plan.workers,
    stages: m.stages, wall_s: s, interrupted: m.interrupted,
  };
}

function prefixCache(computed: number, cached: number): JobMetrics['prefix_cache'] {
  return { prompt_tokens_computed: computed, prompt_tokens_cached: cached, hit_rate: computed + cached > 0 ? cached / (computed + cached) : 0 };
}

const lat = (l: LatencySummary) => `mean ${l.mean.toFixed(1)}  p50 ${l.p50.toFixed(1)}  p99 ${l.p99.toFixed(1)} ms`;

export function formatMetrics(m: JobMetrics): string {
  const r = m.requests, t = m.throughput;
  return [
    `${m.interrupted ? 'interrupted' : 'done'} in ${m.wall_s.toFixed(2)} s: ${r.ok} ok, ${r.failed} failed` +
      (r.skipped_done ? `, ${r.skipped_done} already done (resume)` : '') + (r.not_run ? `, ${r.not_run} not run` : ''),
    `tokens: ${m.tokens.prompt} prompt (${t.prompt_tokens_per_s.toFixed(1)}/s), ${m.tokens.generated} generated (${t.generated_tokens_per_s.toFixed(1)}/s)`,
    `prompt tokens: ${m.prefix_cache.prompt_tokens_computed} computed, ${m.prefix_cache.prompt_tokens_cached} cached (hit rate ${(100 * m.prefix_cache.hit_rate).toFixed(1)} %)`,
    ...(m.structured_outputs === null ? [] : [structuredLine(m.structured_outputs)]),
    `TTFT ${lat(m.latency_ms.ttft)}`,
    `TPOT ${lat(m.latency_ms.tpot)}`,
    `ITL  ${lat(m.latency_ms.itl)}`,
    `preemptions ${m.preemptions}; backend ${m.backend}${m.kernel_path ? ` (${m.kernel_path})` : ''}, ${m.weights} weights, ${m.kv_cache} KV cache; ` +
      `model loaded in ${m.load_s.toFixed(2)} s; ${m.plan}`,
    formatStageTable(m.stages),
  ].join('\n');
}

/** The summary's structured-outputs line (also printed by `profile`). */
export function structuredLine(s: NonNullable<JobMetrics['structured_outputs']>): string {
  return `structured outputs: ${s.grammars_compiled} grammar(s) compiled in ${s.compile_ms.toFixed(0)} ms (${s.cache_hits} reused), ` +
    `${s.masks} masks in ${s.mask_ms.toFixed(0)} ms (${s.masks > 0 ? ((1000 * s.mask_ms) / s.masks).toFixed(0) : 0} µs each)`;
}
