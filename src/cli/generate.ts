// `pipegpt generate`: the quick command. Prints each completion; --json prints one object per prompt
// (or conversation: --chat / --messages go through the model's chat template).
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { PipelineEngine } from '../runtime/pipeline-engine.js';
import type { Completion, GenerateRequest } from '../engine/types.js';
import { engineOptions, type JobConfig } from '../job/config.js';
import { addEngineFlags, addSamplingFlags, idList, modelDir, resolveOptions } from './options.js';
import { checkMessages, type ChatMessage } from '../tokenizer/chat.js';

export function generateCommand(): Command {
  const cmd = new Command('generate').description('generate text from one or more prompts');
  addEngineFlags(cmd);
  cmd
    .option('--prompt <text>', 'prompt text (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--prompts <file>', 'a file of prompts, one per line')
    .option('--prompt-ids <ids>', 'prompt as comma-separated token ids (repeatable)', (v: string, p: number[][] = []) => [...p, idList(v)])
    .option('--chat <text>', 'a one-user-message conversation, rendered by the model\'s chat template (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--messages <file>', 'a JSON array of {role, content}: one conversation, rendered by the chat template')
    .option('--allow-special', 'read "<|endoftext|>" in prompt text as the special token (--prompt only: a chat prompt always parses them)')
    .option('--json', 'print one JSON object per prompt or conversation: {text, token_ids, finish_reason, stop_reason, logprobs}');
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
  const chats = (opts.chat as string[] | undefined) ?? [];
  const conversation = opts.messages === undefined ? [] : [messagesFile(opts.messages as string)];
  if (texts.length + ids.length + chats.length + conversation.length === 0) {
    throw new UsageError('generate needs --prompt TEXT, --prompt-ids 1,2,3, --chat TEXT or --messages FILE.json');
  }
  return [
    ...texts.map((prompt, i) => ({ id: `prompt-${i}`, prompt, sampling, allow_special: opts.allowSpecial === true })),
    ...ids.map((prompt_token_ids, i) => ({ id: `prompt-ids-${i}`, prompt_token_ids, sampling })),
    ...chats.map((content, i) => ({ id: `chat-${i}`, messages: [{ role: 'user', content }], sampling })),
    ...conversation.map((messages) => ({ id: 'messages', messages, sampling })),
  ];
}

/** --messages FILE: checked here, so a typo fails before the model loads. */
function messagesFile(file: string): ChatMessage[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = e instanceof SyntaxError ? `invalid JSON: ${e.message}` : `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    throw new UsageError(`--messages ${file}: ${why}`);
  }
  try {
    return checkMessages(v);
  } catch (e) {
    throw new UsageError(`--messages ${file}: ${(e as Error).message}`);
  }
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
