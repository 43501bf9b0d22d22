// `pipegpt run`: a batch job from a config file (YAML/JSON) and flags; defaults < file < flags.
// Exit codes: 0 done (failed requests are error lines, not a failed job), 2 bad config/input,
// 130 interrupted (SIGINT/SIGTERM: stops admitting, finishes in-flight requests, flushes; a second
// signal exits at once — every written line is whole, so the job stays resumable).
import { Command } from 'commander';
import { loadConfigFile, mergeConfig, type JobConfig, type JobConfigInput } from '../job/config.js';
import { runJob } from '../job/runner.js';
import { formatMetrics } from '../job/summary.js';
import { writeReport } from '../profile/report-html.js';
import { makeTrace, traceRun } from '../profile/trace.js';
import { addSamplingOptions, int, num, samplingFromFlags } from './options.js';

export const intList = (v: string): number[] => v.split(',').map((s) => int(s.trim()));

/** Engine and job flags without defaults, so that unset flags leave the config file's values. */
export function addJobOptions(cmd: Command, workerList = false): Command {
  if (workerList) cmd.option('--workers <list>', 'worker counts to run, comma-separated (default: the config\'s workers, or 1)', intList);
  else cmd.option('--workers <n>', 'worker threads in all, mapped to stages × replicas × tensor-parallel ranks (see README)', int);
  return cmd
    .option('--stages <s>', 'pipeline stages (contiguous layer ranges)', int)
    .option('--replicas <r>', 'micro-batches each stage runs at once', int)
    .option('--tensor-parallel <t>', 'worker threads that run each micro-batch of a stage together, each on its share of every op', int)
    .option('--head-workers <h>', 'give the LM head its own stage, split by vocabulary over h workers', int)
    .option('-c, --config <file>', 'job config (YAML or JSON); see docs/jobs.md')
    .option('--model <dir>', 'Hugging Face GPT-2 directory')
    .option('--backend <name>', 'kernel backend: auto, reference, native, gpujs')
    .option('--max-num-batched-tokens <n>', 'rows per forward step', int)
    .option('--max-num-seqs <n>', 'sequences running at once', int)
    .option('--kv-cache-tokens <n>', 'KV cache capacity in tokens', int);
}

export function configFromFlags(opts: Record<string, unknown>): JobConfigInput {
  const sampling = samplingFromFlags(opts);
  delete sampling.seed; // --seed is the job (engine) seed; a request's own seed goes in sampling.seed
  const pick: Record<string, string> = {
    input: 'input', output: 'output', model: 'model', inputFormat: 'input_format', workers: 'workers', stages: 'stages',
    replicas: 'replicas', tensorParallel: 'tensor_parallel', headWorkers: 'head_workers', backend: 'backend', maxNumBatchedTokens: 'max_num_batched_tokens',
    maxNumSeqs: 'max_num_seqs', kvCacheTokens: 'kv_cache_tokens', seed: 'seed', maxInFlight: 'max_in_flight',
    progressIntervalS: 'progress_interval_s', shardIndex: 'shard_index', numShards: 'num_shards', metricsJson: 'metrics_json', profile: 'profile',
  };
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(pick)) if (opts[flag] !== undefined) out[key] = opts[flag];
  if (Object.keys(sampling).length > 0) out.sampling = sampling;
  return out as JobConfigInput;
}

/** The worker counts of `profile`/`bench`: --workers 1,2,4, else the config's workers, else 1. */
export function workerCounts(opts: Record<string, unknown>, cfg: JobConfig): number[] {
  return (opts.workers as number[] | undefined) ?? [cfg.workers ?? 1];
}

export function resolveJobConfig(opts: Record<string, unknown>): JobConfig {
  const file = opts.config !== undefined ? loadConfigFile(opts.config as string) : {};
  return mergeConfig(file, configFromFlags(opts));
}

export function runCommand(): Command {
  const cmd = new Command('run').description('run a batch job: OpenAI batch / JSONL / text prompts in, OpenAI batch output JSONL out');
  addJobOptions(cmd);
  cmd
    .option('-i, --input <file>', 'input: OpenAI batch JSONL, simple JSONL, or text (one prompt per line)')
    .option('-o, --output <file>', 'output JSONL (one record per input line, in completion order)')
    .option('--input-format <f>', 'auto, openai, jsonl or text')
    .option('--resume', 'keep the output\'s complete lines and run only the rest')
    .option('--resume-force', 'resume even if model, seed, sampling or shard differ from OUTPUT.config.json')
    .option('--max-in-flight <n>', 'requests in the engine at once', int)
    .option('--progress-interval-s <s>', 'seconds between progress lines when stderr is not a TTY', num)
    .option('--profile <file>', 'also write an HTML profile report (and FILE.trace.msgpack)')
    .option('--metrics-json <file>', 'write the summary as JSON')
    .option('--shard-index <i>', 'run only the custom_ids with FNV-1a(custom_id) mod num-shards = i', int)
    .option('--num-shards <n>', 'number of shards', int)
    .option('--quiet', 'no progress output');
  addSamplingOptions(cmd);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const cfg = resolveJobConfig(opts);
    const ac = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      process.stderr.write(`\npipegpt: ${sig}: no new requests; finishing those in flight (signal again to exit now)\n`);
      ac.abort();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    try {
      const out = await runJob(cfg, {
        resume: opts.resume === true, resumeForce: opts.resumeForce === true, signal: ac.signal, keepSpans: cfg.profile !== undefined,
        progress: { quiet: opts.quiet === true, tty: process.stderr.isTTY === true, intervalS: cfg.progress_interval_s, write: (s) => process.stderr.write(s) },
        onStart: (s) => {
          if (s.configChanged.length > 0) process.stderr.write(`resume: settings differ from the output's (${s.configChanged.join(', ')}); resuming anyway (--resume-force)\n`);
          if (s.skipped > 0 || s.tornBytes > 0) {
            process.stderr.write(`resume: ${s.skipped} done${s.tornBytes > 0 ? `; dropped a torn last line (${s.tornBytes} bytes)` : ''}\n`);
          }
        },
      });
      process.stderr.write(formatMetrics(out.metrics) + '\n');
      if (cfg.profile !== undefined) {
        const trace = makeTrace(cfg.model, [traceRun(out.trace)]);
        writeReport(cfg.profile, trace);
      }
      if (out.metrics.interrupted) process.exitCode = 130;
    } finally {
      // once interrupted, a second signal must exit 130 even while the process shuts down (with the
      // handler gone, the default action killed it: no exit code at all)
      if (signals === 0) process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  });
}
