// `pipegpt bench`: llama.cpp batched-bench style table over worker counts and batch sizes.
// PP prompt tokens and TG generated tokens per request, B requests at once. T_PP: until every
// request has its first token; S_TG counts the TG − 1 tokens after it.
import { Command } from 'commander';
import { formatBenchTable, runSynthetic, withEngine, type BenchRow } from '../profile/workload.js';
import { RequestError, UsageError } from '../errors.js';
import { engineOptions } from '../job/config.js';
import { addEngineFlags, int, modelDir, intList, resolveOptions, workerCounts } from './options.js';

/** Synthetic sizes must be ≥ 1, checked before any engine starts: --batch 0 ran nothing and
 *  printed a row of zeros. */
export function checkSynthetic(opts: Record<string, unknown>): void {
  const flags: Array<[string, string]> = [['--batch', 'batch'], ['--input-len', 'inputLen'], ['--output-len', 'outputLen']];
  for (const [flag, key] of flags) {
    const v = opts[key] as number | number[] | undefined;
    for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
      if (x < 1) throw new UsageError(`${flag} must be ≥ 1, got ${Array.isArray(v) ? v.join(',') : x}`);
    }
  }
}

export function benchCommand(): Command {
  const cmd = new Command('bench').description('prefill/decode throughput table (PP, TG, B) over worker counts');
  addEngineFlags(cmd, true);
  cmd.option('--input-len <n>', 'prompt tokens per request (PP)', int, 32)
    .option('--output-len <n>', 'generated tokens per request (TG)', int, 16)
    .option('--batch <list>', 'requests at once (B), comma-separated', intList, [1, 8])
    .option('--json', 'print the rows as JSON lines');
  return cmd.action(async (opts: Record<string, unknown>) => {
    checkSynthetic(opts);
    const resolved = resolveOptions(opts);
    const cfg = { ...resolved, model: await modelDir(resolved.model, opts) }; // a hub id becomes its cache directory
    const workerList = workerCounts(opts, cfg);
    const rows: BenchRow[] = [];
    for (const w of workerList) {
      await withEngine(cfg.model, engineOptions(cfg, w), async (engine) => {
        await runSynthetic(engine, { inputLen: Math.min(4, opts.inputLen as number), outputLen: 2, batch: 1 }, false); // warm-up
        for (const b of opts.batch as number[]) {
          const r = await runSynthetic(engine, { inputLen: opts.inputLen as number, outputLen: opts.outputLen as number, batch: b }, false);
          if (r.failed.length > 0) throw new RequestError(r.failed[0].code, r.failed[0].message);
          rows.push(r.row);
          if (opts.json) process.stdout.write(JSON.stringify(r.row) + '\n');
        }
      });
    }
    if (!opts.json) process.stdout.write(formatBenchTable(rows) + '\n');
  });
}
