// `pipegpt tokenize`: a prompt's token ids exactly as a completion request sees them (BOS
// included where the tokenizer adds one), or a chat prompt's after its template. Reads only the
// tokenizer files (and config.json's vocab_size): never the weights.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ChatTemplateError, UsageError } from '../errors.js';
import { DEFAULT_MODEL_DIR } from '../runtime/options.js';
import { checkMessages } from '../tokenizer/chat.js';
import { readJsonFile } from '../tokenizer/hf-json.js';
import { loadTokenizer } from '../tokenizer/load.js';

interface TokenizeOpts { model: string; text?: string; chat?: string; json?: boolean; allowSpecial?: boolean }

/** config.json's vocab_size when there is one: every prompt id must have an embedding row. */
function modelVocabSize(dir: string): number | undefined {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  const v = (readJsonFile(file) as Record<string, unknown> | null)?.vocab_size;
  return Number.isInteger(v) ? (v as number) : undefined;
}

function readMessages(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--chat ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--chat ${file}: expected a JSON array of {"role", "content"}, got invalid JSON: ${(e as Error).message}`);
  }
}

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('print the token ids a prompt becomes (BOS included where the tokenizer adds one), or a chat prompt after its template')
    .option('--model <dir>', 'model directory: tokenizer.json (+ tokenizer_config.json), or a GPT-2 config.json', DEFAULT_MODEL_DIR)
    .option('--text <text>', 'prompt text')
    .option('--chat <file>', 'JSON array of {role, content}: rendered by the chat template with the generation prompt, then tokenized')
    .option('--allow-special', 'special-token strings in --text become special tokens (otherwise they are plain text)')
    .option('--json', 'print one object {"ids": [...], "text": "..."}, text being what was tokenized')
    .action((opts: TokenizeOpts) => {
      if ((opts.text === undefined) === (opts.chat === undefined)) {
        throw new UsageError('tokenize needs exactly one of --text TEXT or --chat MESSAGES.json');
      }
      if (opts.chat !== undefined && opts.allowSpecial) {
        throw new UsageError('--allow-special applies to --text only: a rendered chat prompt always has its special tokens parsed');
      }
      const messages = opts.chat === undefined ? null : checkMessages(readMessages(opts.chat), opts.chat);
      const tok = loadTokenizer(opts.model, modelVocabSize(opts.model));
      try {
        let text: string, ids: number[];
        if (messages !== null) {
          if (tok.chat === undefined) {
            throw new ChatTemplateError(`${opts.model}: this model has no chat template (no tokenizer.json / tokenizer_config.json, or no "chat_template" in it)`);
          }
          ({ text, ids } = tok.chat(messages));
        } else {
          text = opts.text!;
          ids = tok.encode(text, opts.allowSpecial === true);
        }
        process.stdout.write(opts.json ? JSON.stringify({ ids, text }) + '\n' : ids.join(',') + '\n');
      } finally {
        tok.free();
      }
    });
}
