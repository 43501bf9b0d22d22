// `pipegpt merge`: joins shard outputs in input order (see src/job/merge.ts).
import { Command } from 'commander';
import { clip, JobError } from '../errors.js';
import { mergeOutputs } from '../job/merge.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join shard outputs into one JSONL in input order (by --input\'s custom_ids, else natural custom_id order)')
    .requiredOption('-o, --output <file>', 'merged output')
    .option('--input <file>', 'the original job input: gives the order, and reports ids with no output')
    .argument('<shards...>', 'shard output files')
    .action(async (shards: string[], opts: { output: string; input?: string }) => {
      const r = await mergeOutputs(shards, opts.output, opts.input);
      process.stderr.write(`merged ${r.written} records into ${opts.output}\n`);
      if (r.extra.length > 0) process.stderr.write(`warning: ${r.extra.length} records not in --input were left out (first: ${clip(JSON.stringify(r.extra[0]))})\n`);
      if (r.missing.length > 0) {
        throw new JobError(`${r.missing.length} custom_ids of ${clip(String(opts.input))} have no output (first: ${clip(JSON.stringify(r.missing[0]))}); run the missing shard(s) with --resume`, 'missing_records');
      }
    });
}
