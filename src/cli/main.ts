#!/usr/bin/env node
// The pipegpt command line. The only place that sets exit codes: 0 ok, 1 unexpected failure,
// 2 bad input (usage, checkpoint, request or sampling values).
import { Command, CommanderError } from 'commander';
import { clip, PipegptError } from '../errors.js';
import { generateCommand } from './generate.js';
import { inspectCommand } from './inspect.js';
import { scoreCommand } from './score.js';
import { runCommand } from './run.js';
import { profileCommand } from './profile.js';
import { benchCommand } from './bench.js';
import { mergeCommand } from './merge.js';
import { pullCommand } from './pull.js';
import { modelsCommand } from './models.js';
import { tokenizeCommand } from './tokenize.js';

const program = new Command('pipegpt')
  .description('batch text generation for Node.js: Llama, Mistral, Qwen2, Qwen3 and GPT-2 families over worker threads')
  .version('0.1.0')
  .exitOverride()
  .addCommand(generateCommand().exitOverride())
  .addCommand(scoreCommand().exitOverride())
  .addCommand(inspectCommand().exitOverride())
  .addCommand(runCommand().exitOverride())
  .addCommand(profileCommand().exitOverride())
  .addCommand(benchCommand().exitOverride())
  .addCommand(mergeCommand().exitOverride())
  .addCommand(pullCommand().exitOverride())
  .addCommand(modelsCommand().exitOverride())
  .addCommand(tokenizeCommand().exitOverride());

// `pipegpt score … | head`: a reader that closes the pipe early is not an error of ours
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/** What reaches the terminal: every line cut at 2000 characters (messages cut each value they echo
 *  at 200; this bounds whatever escaped that) and control characters of echoed binary shown as
 *  escapes, never sent to the terminal. */
function printable(message: string): string {
  return message.split('\n').map((l) => clip(l, 2000))
    .join('\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2; // commander already printed its message
  } else if (e instanceof PipegptError) {
    process.stderr.write(`pipegpt: ${printable(e.message)}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`pipegpt: unexpected error: ${printable((e as Error).stack ?? String(e))}\n`);
    process.exitCode = 1;
  }
}
