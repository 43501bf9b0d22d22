// `pipegpt profile`: runs a job (-c) or a synthetic batch with per-stage tracing at one or more
// worker counts; writes FILE.trace.msgpack and a self-contained HTML report, prints the tables.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { RequestError } from '../errors.js';
import { runJob } from '../job/runner.js';
import { structuredLine } from '../job/summary.js';
import { writeReport } from '../profile/report-html.js';
import { formatStageTable } from '../profile/stage-stats.js';
import { makeTrace, traceRun, tracePathFor, type TraceRun } from '../profile/trace.js';
import { runSynthetic, withEngine } from '../profile/workload.js';
import { engineOptions, type JobConfig } from '../job/config.js';
import { addEngineFlags, int, modelDir, resolveOptions, workerCounts } from './options.js';
import { checkWritableFile } from '../job/files.js';
import { checkSynthetic } from './bench.js';

export function profileCommand(): Command {
  const cmd = new Command('profile').description('trace every pipeline stage of a job (-c) or a synthetic batch; HTML timeline report');
  addEngineFlags(cmd, true);
  cmd.option('--report <file>', 'HTML report (the trace goes to FILE.trace.msgpack)', 'profile.html')
    .option('--input-len <n>', 'synthetic: prompt tokens per request', int, 32)
    .option('--output-len <n>', 'synthetic: generated tokens per request', int, 16)
    .option('--batch <n>', 'synthetic: requests at once', int, 32);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const report = opts.report as string;
    // checked before the runs: a report path under a file used to fail only after all of them
    checkWritableFile('--report', report);
    checkWritableFile('--report trace', tracePathFor(report));
    if (opts.config === undefined) checkSynthetic(opts);
    const resolved = resolveOptions(opts);
    const cfg = { ...resolved, model: await modelDir(resolved.model, opts) }; // a hub id becomes its cache directory
    const runs: TraceRun[] = [];
    for (const w of workerCounts(opts, cfg)) {
      const run = opts.config !== undefined ? await profileJob({ ...cfg, workers: w }) : await profileSynthetic(cfg, w, opts);
      runs.push(run);
      process.stderr.write(`${w} worker(s): ${run.plan}; ${run.tokensPerS.toFixed(1)} generated tokens/s\n${formatStageTable(run.stats)}\n`);
    }
    const trace = makeTrace(cfg.model, runs);
    writeReport(report, trace);
    process.stderr.write(`report: ${report}\ntrace: ${tracePathFor(report)}\n`);
  });
}

async function profileJob(cfg: JobConfig): Promise<TraceRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pipegpt-profile-'));
  try {
    const out = await runJob({ ...cfg, output: join(dir, 'out.jsonl'), metrics_json: undefined }, { keepSpans: true });
    if (out.metrics.structured_outputs !== null) process.stderr.write(`${structuredLine(out.metrics.structured_outputs)}\n`);
    return traceRun(out.trace);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function profileSynthetic(cfg: JobConfig, workers: number, opts: Record<string, unknown>): Promise<TraceRun> {
  return withEngine(cfg.model, engineOptions(cfg, workers), async (engine) => {
    await runSynthetic(engine, { inputLen: 2, outputLen: 2, batch: 1 }, false); // warm-up
    const r = await runSynthetic(engine, { inputLen: opts.inputLen as number, outputLen: opts.outputLen as number, batch: opts.batch as number });
    if (r.failed.length > 0) throw new RequestError(r.failed[0].code, r.failed[0].message);
    return traceRun(r.capture);
  });
}
