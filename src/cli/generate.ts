// `pipegpt generate`: the quick command. Prints each completion; --json prints one object per prompt.
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { PipelineEngine } from '../runtime/pipeline-engine.js';
import type { Completion, GenerateRequest } from '../engine/types.js';
import { engineOptions, type JobConfig } from '../job/config.js';
import { addEngineFlags, addSamplingFlags, idList, modelDir, resolveOptions } from './options.js';

export function generateCommand(): Command {
  const cmd = new Command('generate').description('generate text from one or more prompts');
  addEngineFlags(cmd);
  cmd
    .option('--prompt <text>', 'prompt text (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--prompts <file>', 'a file of prompts, one per line')
    .option('--prompt-ids <ids>', 'prompt as comma-separated token ids (repeatable)', (v: string, p: number[][] = []) => [...p, idList(v)])
    .option('--allow-special', 'read "<|endoftext|>" in prompt text as the special token')
    .option('--json', 'print one JSON object per prompt: {text, token_ids, finish_reason, stop_reason, logprobs}');
  addSamplingFlags(cmd);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const cfg = resolveOptions(opts);
    const requests = toRequests(opts, cfg);
    const engine = await PipelineEngine.create(await modelDir(cfg.model, opts), engineOptions(cfg));
    try {
      const results = await engine.generate(requests);
      for (const c of results) printCompletion(c, opts.json === true);
      if (results.some((c) => c.error !== null)) process.exitCode = 2;
    } finally {
      await engine.close();
    }
  });
}

function toRequests(opts: Record<string, unknown>, cfg: JobConfig): GenerateRequest[] {
  const sampling = cfg.sampling;
  const texts = [...((opts.prompt as string[] | undefined) ?? []), ...promptFile(opts.prompts as string | undefined)];
  const ids = (opts.promptIds as number[][] | undefined) ?? [];
  if (texts.length + ids.length === 0) throw new UsageError('generate needs --prompt TEXT or --prompt-ids 1,2,3');
  return [
    ...texts.map((prompt, i) => ({ id: `prompt-${i}`, prompt, sampling, allow_special: opts.allowSpecial === true })),
    ...ids.map((prompt_token_ids, i) => ({ id: `prompt-ids-${i}`, prompt_token_ids, sampling })),
  ];
}

function promptFile(file: string | undefined): string[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--prompts ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

function printCompletion(c: Completion, json: boolean): void {
  if (c.error !== null) {
    if (json) process.stdout.write(JSON.stringify({ error: c.error }) + '\n');
    process.stderr.write(`error: ${c.error.message}\n`);
    return;
  }
  for (const ch of c.choices) {
    if (json) {
      const { text, token_ids, finish_reason, stop_reason, logprobs } = ch;
      process.stdout.write(JSON.stringify({ text, token_ids, finish_reason, stop_reason, logprobs }) + '\n');
    } else {
      process.stdout.write(ch.text + '\n');
    }
  }
}
