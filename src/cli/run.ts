// `pipegpt run`: a batch job from a config file (YAML/JSON) and flags; defaults < file < flags.
// Exit codes: 0 done (failed requests are error lines, not a failed job), 2 bad config/input,
// 130 interrupted (SIGINT/SIGTERM: stops admitting, finishes in-flight requests, flushes; a second
// signal exits at once — every written line is whole, so the job stays resumable).
import { Command } from 'commander';
import { runJob } from '../job/runner.js';
import { formatMetrics } from '../job/summary.js';
import { writeReport } from '../profile/report-html.js';
import { makeTrace, traceRun } from '../profile/trace.js';
import { addEngineFlags, addSamplingFlags, hubFromFlags, int, num, resolveOptions } from './options.js';

export function runCommand(): Command {
  const cmd = new Command('run').description('run a batch job: OpenAI batch / JSONL / text prompts in, OpenAI batch output JSONL out');
  addEngineFlags(cmd);
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
  addSamplingFlags(cmd);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const cfg = resolveOptions(opts);
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
        resume: opts.resume === true, resumeForce: opts.resumeForce === true, signal: ac.signal, keepSpans: cfg.profile !== undefined, hub: hubFromFlags(opts),
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
