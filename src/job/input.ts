// Job inputs, streamed line by line: OpenAI Batch API JSONL (completions and chat lines), simple
// JSONL ({custom_id?, prompt | messages, ...sampling}) or plain text (one prompt per line). Blank lines are skipped; line numbers are
// the file's own (1-based), and custom_id defaults to "line-<n>".
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { clip, JobError } from '../errors.js';
import type { GenerateRequest } from '../engine/types.js';
import { CHAT_URL, chatLine } from './chat.js';

export type InputFormat = 'openai' | 'jsonl' | 'text';

export interface InputLine { n: number; text: string }

/** A request to run, or a line that became an error record before reaching the engine. */
export type JobRecord =
  | { n: number; customId: string; request: GenerateRequest; error?: undefined }
  | { n: number; customId: string; request?: undefined; error: { code: string; message: string } };

/** The file's non-blank lines; with `endByte`, only its first endByte bytes (resume and merge
 *  stop before a torn last line). */
export async function* readLines(file: string, endByte?: number): AsyncGenerator<InputLine> {
  if (endByte === 0) return;
  const stream = createReadStream(file, { encoding: 'utf8', end: endByte === undefined ? undefined : endByte - 1 });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of rl) {
      n++;
      if (text.trim().length > 0) yield { n, text };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** openai/jsonl/text from the extension, else from the first non-blank line. */
export function detectFormat(file: string, requested: string = 'auto'): InputFormat {
  if (requested !== 'auto') return requested as InputFormat;
  if (/\.txt$/i.test(file)) return 'text';
  const first = firstLine(file);
  let v: unknown;
  try {
    v = JSON.parse(first);
  } catch {
    if (/\.jsonl?$/i.test(file)) return 'jsonl'; // malformed first line: an error record, not text
    return 'text';
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return /\.jsonl?$/i.test(file) ? 'jsonl' : 'text';
  return 'body' in v || 'url' in v || 'method' in v ? 'openai' : 'jsonl';
}

function firstLine(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new JobError(`${clip(file)}: cannot read input (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'input_unreadable');
  }
  try {
    const buf = Buffer.alloc(1 << 16);
    const got = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, got).toString('utf8').split(/\r?\n/).find((l) => l.trim().length > 0) ?? '';
  } finally {
    closeSync(fd);
  }
}

const SKIP_BODY = new Set(['model', 'prompt', 'user', 'stream']);
/** A request's value echoed into its error record, cut short (a 10 MB prompt is not repeated). */
const echo = (v: unknown): string => clip(JSON.stringify(v) ?? 'nothing');

/** Parses one line; never throws for bad content (that becomes an error record). */
export function parseLine(format: InputFormat, line: InputLine): JobRecord {
  const n = line.n, fallback = `line-${n}`;
  if (format === 'text') return { n, customId: fallback, request: { id: fallback, prompt: line.text } };
  let v: unknown;
  try {
    v = JSON.parse(line.text);
  } catch (e) {
    return { n, customId: fallback, error: { code: 'invalid_json', message: `line ${n}: invalid JSON (${clip((e as Error).message)})` } };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { n, customId: fallback, error: { code: 'invalid_request', message: `line ${n}: expected a JSON object` } };
  }
  const o = v as Record<string, unknown>;
  const id = o.custom_id;
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    return { n, customId: fallback, error: { code: 'invalid_request', message: `line ${n}: custom_id must be a non-empty string, got ${echo(id)}` } };
  }
  const customId = (id as string | undefined) ?? fallback;
  const err = (code: string, message: string): JobRecord => ({ n, customId, error: { code, message: `line ${n}: ${message}` } });
  let body: Record<string, unknown>;
  if (format === 'openai') {
    if (o.method !== undefined && o.method !== 'POST') return err('invalid_method', `method must be "POST", got ${echo(o.method)}`);
    if (o.url !== '/v1/completions' && o.url !== CHAT_URL) return err('invalid_url', `url must be "/v1/completions" or "${CHAT_URL}", got ${echo(o.url)}`);
    if (o.body === null || typeof o.body !== 'object' || Array.isArray(o.body)) return err('invalid_request', 'body must be an object');
    body = o.body as Record<string, unknown>;
    if (o.url === CHAT_URL) return chatLine(n, customId, body);
    if (body.messages !== undefined) return err('invalid_request', `"messages" go to url "${CHAT_URL}"; "/v1/completions" takes "prompt"`);
  } else {
    body = o;
    if (body.messages !== undefined) return chatLine(n, customId, body); // simple JSONL chat: same fields as a chat body
  }
  const prompt = body.prompt;
  const sampling: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(body)) if (!SKIP_BODY.has(k) && k !== 'custom_id') sampling[k] = val;
  if (typeof prompt === 'string') return { n, customId, request: { id: customId, prompt, sampling } };
  if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) {
    return { n, customId, request: { id: customId, prompt_token_ids: prompt as number[], sampling } };
  }
  return err('invalid_request', `prompt must be a string or an array of token ids, got ${echo(prompt)}`);
}

/** The custom_id of a line as parseLine would give it, without building the request. */
export function customIdOf(format: InputFormat, line: InputLine): string {
  if (format === 'text') return `line-${line.n}`;
  return parseLine(format, line).customId;
}

export interface InputScan { total: number; selected: number; ids: string[] }

/** First pass: every line's custom_id, refusing duplicates (naming both lines); `selected` counts
 *  the ids `select` keeps (this shard's); `ids` lists them all in input order when keepIds. */
export async function scanInput(file: string, format: InputFormat, select: (id: string) => boolean = () => true, keepIds = false): Promise<InputScan> {
  const seen = new Map<string, number>();
  const ids: string[] = [];
  let total = 0, selected = 0;
  for await (const line of readLines(file)) {
    const id = customIdOf(format, line);
    const prev = seen.get(id);
    if (prev !== undefined) throw new JobError(`${clip(file)}: duplicate custom_id ${echo(id)} on lines ${prev} and ${line.n}`, 'duplicate_custom_id');
    seen.set(id, line.n);
    if (keepIds) ids.push(id);
    total++;
    if (select(id)) selected++;
  }
  return { total, selected, ids };
}
