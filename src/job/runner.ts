// Runs a batch job: streams the input, keeps at most max_in_flight requests in the engine, writes
// one output record per input line as each completes (completion order), and stops admitting when
// the signal aborts (in-flight requests still finish and are written).
import { mergeSampling } from '../structured/spec.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { clip, JobError } from '../errors.js';
import { resolveModel, type ResolveOptions } from '../hub/index.js';
import type { StageSpan } from '../engine/executor.js';
import type { Completion } from '../engine/types.js';
import { PipelineEngine } from '../runtime/pipeline-engine.js';
import type { StagePlan } from '../pipeline/stage-plan.js';
import { tracePathFor } from '../profile/trace.js';
import { addStageTotals, emptyTotals, statsFromTotals, type StageTotals } from '../profile/stage-stats.js';
import { engineOptions, type JobConfig } from './config.js';
import { checkInputFile, checkWritableFile, makeParentDir, OutputLock, sameFile, writing } from './files.js';
import { detectFormat, parseLine, readLines, scanInput } from './input.js';
import { TokenTimer } from './latency.js';
import { lineErrorRecord, RecordWriter, rejectedRecord, successRecord } from './output.js';
import { chatRecord } from './chat.js';
import { Progress, type ProgressOptions } from './progress.js';
import { checkResumeConfig, readResumeState, startOutput } from './resume.js';
import { shardOf } from './shard.js';
import { buildMetrics, type JobMetrics } from './summary.js';

export interface RunOptions {
  resume?: boolean;
  resumeForce?: boolean;            // resume even when OUTPUT.config.json records other settings
  signal?: AbortSignal;             // abort = stop admitting; in-flight requests finish
  progress?: ProgressOptions;
  keepSpans?: boolean;              // keep every span (profiles); else they are folded and dropped
  onStart?: (info: { total: number; skipped: number; tornBytes: number; configChanged: string[] }) => void;
  hub?: ResolveOptions;             // token / quiet for a hub id in cfg.model
}

export interface RunTrace { plan: StagePlan; t0: number; t1: number; spans: StageSpan[]; generatedTokens: number; promptTokens: number }

export interface JobOutcome { metrics: JobMetrics; trace: RunTrace; configFile: string }

const wallNow = () => performance.timeOrigin + performance.now();

/** Checks every path and the input (duplicates) before any model loads; writes nothing. */
export async function checkJob(cfg: JobConfig) {
  if (!cfg.input) throw new JobError('no input: set "input" in the config or pass -i FILE');
  if (!cfg.output) throw new JobError('no output: set "output" in the config or pass -o FILE');
  checkInputFile('input', cfg.input);
  // every file the job writes: writable where it points, and none of them the input or another
  // (by inode: a hard link to the input is the input)
  const written: Array<[string, string]> = [['output', cfg.output], ['resolved config', `${cfg.output}.config.json`]];
  if (cfg.metrics_json) written.push(['metrics_json', cfg.metrics_json]);
  if (cfg.profile) written.push(['profile', cfg.profile], ['profile trace', tracePathFor(cfg.profile)]);
  for (const [i, [label, file]] of written.entries()) {
    checkWritableFile(label, file);
    if (sameFile(cfg.input, file)) throw new JobError(`${label} ${clip(file)} is the input file${i === 0 ? '; choose another -o' : ''}`, 'same_file');
    for (const [other, f2] of written.slice(0, i)) {
      if (sameFile(file, f2)) throw new JobError(`${label} ${clip(file)} is also the ${other}`, 'same_file');
    }
  }
  if ((cfg.shard_index === undefined) !== (cfg.num_shards === undefined)) throw new JobError('shard_index and num_shards go together');
  const format = detectFormat(cfg.input, cfg.input_format);
  const select = (id: string) => cfg.num_shards === undefined || shardOf(id, cfg.num_shards) === cfg.shard_index;
  const scan = await scanInput(cfg.input, format, select);
  return { input: cfg.input, output: cfg.output, format, select, total: scan.selected };
}

/** Runs a job. Order matters for "a refused job loses nothing": check everything, lock the output,
 *  read the resume state, start the engine (model load, workers) — and only then truncate the
 *  output and write OUTPUT.config.json. */
export async function runJob(cfg: JobConfig, opts: RunOptions = {}): Promise<JobOutcome> {
  const job = await checkJob(cfg);
  const resume = opts.resume === true || opts.resumeForce === true;
  makeParentDir('output', job.output);
  const lock = OutputLock.acquire(job.output);
  try {
    const configFile = `${job.output}.config.json`;
    const resolved = { ...cfg, input_format: job.format };
    const configChanged = resume ? checkResumeConfig(configFile, resolved, opts.resumeForce === true) : [];
    const state = resume ? await readResumeState(job.output) : { done: new Set<string>(), tornBytes: 0, keepBytes: 0 };
    const model = await resolveModel(cfg.model, opts.hub);
    const engine = await PipelineEngine.create(model.dir, engineOptions(cfg));
    let writer: RecordWriter | null = null;
    try {
      writing('resolved config', configFile, () => writeFileSync(configFile, JSON.stringify(resolved, null, 2) + '\n'));
      writer = writing('output', job.output, () => {
        startOutput(job.output, resume, state);
        return new RecordWriter(job.output);
      });
      opts.onStart?.({ total: job.total, skipped: state.done.size, tornBytes: state.tornBytes, configChanged });
      const driver = new JobDriver(engine, cfg, job, writer, opts, model.repo);
      await driver.admitAll(state.done);
      return { ...driver.finish(), configFile };
    } finally {
      writer?.close();
      await engine.close();
    }
  } finally {
    lock.release();
  }
}

type Job = Awaited<ReturnType<typeof checkJob>>;

/** One job's run on a started engine: admission with back-pressure, records, metrics. */
class JobDriver {
  private readonly timer = new TokenTimer();
  private readonly c = { ok: 0, failed: 0, skipped: 0 };
  private readonly model: string;
  private readonly t0 = wallNow();
  private readonly totals: StageTotals[];
  private readonly kept: StageSpan[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly progress: Progress | null;
  private writeError: Error | null = null;

  constructor(private readonly engine: PipelineEngine, private readonly cfg: JobConfig, private readonly job: Job,
    private readonly writer: RecordWriter, private readonly opts: RunOptions, hubRepo: string | null) {
    this.model = hubRepo ?? basename(resolve(cfg.model)); // a hub model is named org/name, not by its commit folder
    this.totals = emptyTotals(engine.plan);
    engine.recordSpans = true;
    engine.onToken = (id, choice, i, t) => this.timer.token(id, choice, i, t);
    this.progress = opts.progress ? new Progress(opts.progress, () => ({
      done: this.c.ok + this.c.failed + this.c.skipped, total: job.total,
      generated: engine.stats.generatedTokens, elapsedS: (wallNow() - this.t0) / 1000,
    })) : null;
  }

  private get stopped(): boolean { return this.opts.signal?.aborted === true || this.writeError !== null; }

  /** Streams the input, keeping at most max_in_flight requests in the engine; waits for them all. */
  async admitAll(done: Set<string>): Promise<void> {
    this.progress?.start();
    for await (const line of readLines(this.job.input)) {
      if (this.stopped) break;
      const rec = parseLine(this.job.format, line);
      if (!this.job.select(rec.customId)) continue;
      if (done.has(rec.customId)) { this.c.skipped++; continue; }
      if (rec.error) { this.writer.write(lineErrorRecord(rec.customId, rec.error)); this.c.failed++; continue; }
      while (this.inflight.size >= this.cfg.max_in_flight) await Promise.race(this.inflight);
      if (this.stopped) break;
      const req = { ...rec.request, sampling: mergeSampling(this.cfg.sampling, rec.request.sampling) };
      this.timer.submit(req.id, performance.now());
      const chat = rec.request.messages !== undefined; // answered in the chat.completion shape
      const p: Promise<void> = this.engine.submit(req).then((comp) => this.onDone(rec.customId, comp, chat)).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
    await Promise.all(this.inflight);
    this.progress?.stop();
    if (this.writeError) throw this.writeError;
  }

  private onDone(customId: string, comp: Completion, chat = false): void {
    this.timer.finish(customId, comp.choices.length);
    try {
      if (comp.error !== null) { this.writer.write(rejectedRecord(customId, comp.error)); this.c.failed++; }
      else { this.writer.write(chat ? chatRecord(customId, comp, this.model, this.engine.tok) : successRecord(customId, comp, this.model)); this.c.ok++; }
    } catch (e) {
      this.writeError ??= e as Error;
    }
    if (this.engine.stats.spans.length > 4096) this.fold();
  }

  /** Folds the engine's spans into per-stage totals (kept whole only for profiles) and drops them. */
  private fold(): void {
    const spans = this.engine.stats.spans;
    if (this.opts.keepSpans) this.kept.push(...spans);
    addStageTotals(this.engine.plan, this.totals, spans, this.t0, Infinity);
    spans.length = 0;
  }

  finish(): { metrics: JobMetrics; trace: RunTrace } {
    const t1 = wallNow(), e = this.engine, st = e.stats;
    this.fold();
    const metrics = buildMetrics({
      total: this.job.total, ...this.c, promptTokens: st.promptTokens, generatedTokens: st.generatedTokens, timer: this.timer,
      promptTokensCached: st.promptTokensCached, promptTokensComputed: st.promptTokensComputed, structured: st.structured,
      preemptions: st.preemptions, backend: e.backend, kernelPath: e.kernelPath, weights: e.format, kvCache: e.kvFormat, loadS: e.loadMs / 1000, plan: e.plan, stages: statsFromTotals(e.plan, this.totals, t1 - this.t0),
      t0: this.t0, t1, interrupted: this.opts.signal?.aborted === true,
    });
    if (this.cfg.metrics_json) {
      try {
        mkdirSync(dirname(resolve(this.cfg.metrics_json)), { recursive: true });
        writeFileSync(this.cfg.metrics_json, JSON.stringify(metrics, null, 2) + '\n');
      } catch (e) {
        // checked before the job, so only a change since (or a full disk) gets here
        throw new JobError(`metrics_json ${clip(this.cfg.metrics_json)}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)}); the job itself is done`, 'output_unwritable');
      }
    }
    return { metrics, trace: { plan: e.plan, t0: this.t0, t1, spans: this.kept, generatedTokens: st.generatedTokens, promptTokens: st.promptTokens } };
  }
}
