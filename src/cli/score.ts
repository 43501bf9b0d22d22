// `pipegpt score`: mean NLL and perplexity of a text file, or of a JSON array of token ids (.json).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { LocalEngine } from '../runtime/local-engine.js';
import { scoreTokens } from '../engine/score.js';
import { addEngineFlags, int, modelDir, resolveOptions } from './options.js';
import { engineOptions } from '../job/config.js';

export function scoreCommand(): Command {
  const cmd = new Command('score').description('negative log-likelihood and perplexity of a file (sliding windows of n_positions, stride n_positions/2)');
  addEngineFlags(cmd);
  return cmd
    .requiredOption('-i, --input <file>', 'text file, or a .json array of token ids')
    .option('--stride <n>', 'window stride in tokens, 1 to n_positions − 1 (default n_positions / 2)', int)
    .option('--json', 'print {mean_nll, perplexity, n_scored, token_logprobs}')
    .action(async (opts: Record<string, unknown>) => {
      const cfg = resolveOptions(opts);
      // one window at a time: one sequence, chunks of 64 rows
      // the config's engine options (backend, dtype, quantization, …) through the one mapping
      const engine = LocalEngine.open(await modelDir(cfg.model, opts), { ...engineOptions(cfg), maxBatchedTokens: 64, maxSeqs: 1 });
      const ids = readIds(opts.input as string, (t) => engine.tok.encode(t));
      const r = scoreTokens(engine, ids, opts.stride as number | undefined);
      if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`tokens scored: ${r.n_scored}\nmean NLL: ${r.mean_nll.toFixed(4)} nats/token\nperplexity: ${r.perplexity.toFixed(3)}\n`);
    });
}

function readIds(file: string, encode: (text: string) => number[]): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (!file.endsWith('.json')) return encode(text);
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(ids)) throw new UsageError(`${file}: expected a JSON array of token ids, got ${typeof ids}`);
  return ids as number[];
}
