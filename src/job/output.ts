// Output records in the OpenAI Batch API output shape, appended one synchronous write per record
// to an fd opened 'a' (a record is on disk, whole, as soon as it is written; a crash can tear at
// most the line being written, which --resume drops).
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { Completion, RequestFailure } from '../engine/types.js';
import { clip, JobError, type RequestErrorCode } from '../errors.js';
import { fnv1a32 } from './shard.js';

export interface OutputRecord {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

const hex = (s: string, salt: string) => fnv1a32(salt + s).toString(16).padStart(8, '0') + fnv1a32(s + salt).toString(16).padStart(8, '0');

/** Ids derive from the custom_id, so a resumed run writes the same ids as an uninterrupted one. */
function ids(customId: string) {
  return { id: `batch_req_${hex(customId, 'b')}`, request_id: `req_${hex(customId, 'r')}`, cmpl: `cmpl-${hex(customId, 'c')}` };
}

export function successRecord(customId: string, c: Completion, model: string): OutputRecord {
  const choices = c.choices.map(({ index, text, token_ids, finish_reason, stop_reason, logprobs }) => ({ index, text, token_ids, finish_reason, stop_reason, logprobs }));
  return answerRecord(customId, c, 'text_completion', model, choices);
}

/** An answer: the batch envelope, the object's choices, and the usage every answer carries. */
export function answerRecord(customId: string, c: Completion, object: 'text_completion' | 'chat.completion', model: string, choices: unknown[]): OutputRecord {
  const { id, request_id, cmpl } = ids(customId);
  const completion = c.choices.reduce((a, ch) => a + ch.token_ids.length, 0);
  const prompt = c.prompt_token_ids.length;
  return {
    id, custom_id: customId,
    response: {
      status_code: 200, request_id,
      body: {
        id: object === 'chat.completion' ? `chat${cmpl}` : cmpl, object, created: Math.floor(Date.now() / 1000), model, choices,
        usage: {
          prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
          prompt_tokens_details: { cached_tokens: c.num_cached_tokens }, // OpenAI's shape: prompt tokens served from the cache
        },
      },
    },
    error: null,
  };
}

/** Server-side failures (the request itself was fine) answer 500, as the OpenAI Batch API does. */
const SERVER_SIDE: ReadonlySet<RequestErrorCode> = new Set(['forward_failed', 'internal_error']);

/** A request the engine refused or could not run: an HTTP-like response plus the error, code from the error itself. */
export function rejectedRecord(customId: string, failure: RequestFailure): OutputRecord {
  const { id, request_id } = ids(customId);
  const { code, message } = failure, server = SERVER_SIDE.has(code);
  return {
    id, custom_id: customId,
    response: { status_code: server ? 500 : 400, request_id, body: { error: { message, type: server ? 'server_error' : 'invalid_request_error', param: null, code } } },
    error: { code, message },
  };
}

/** A line that never reached the engine (malformed JSON, wrong url): no response. */
export function lineErrorRecord(customId: string, error: { code: string; message: string }): OutputRecord {
  return { id: ids(customId).id, custom_id: customId, response: null, error };
}

/** A failed record write as a JobError that says what happened and what to do next. */
function writeFailure(file: string, e: unknown, written: number): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === undefined) return e as Error;
  const kept = `after ${written} record(s) of this run; the file holds whole records only`;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    const what = code === 'EFBIG' ? 'file size limit reached (EFBIG; see ulimit -f)' : `disk full (${code})`;
    return new JobError(`${clip(file)}: ${what} ${kept}. Free some space, then rerun the same command with --resume to finish the rest.`, 'disk_full');
  }
  return new JobError(`${clip(file)}: cannot write (${code}) ${kept}; rerun the same command with --resume to finish the rest.`, 'write_failed');
}

export class RecordWriter {
  private fd: number | null;
  private size: number;
  written = 0;
  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
  }
  write(r: OutputRecord): void {
    this.writeLine(JSON.stringify(r));
  }
  writeLine(text: string): void {
    if (this.fd === null) throw new Error(`${this.file}: writer is closed`);
    const buf = Buffer.from(text + '\n', 'utf8');
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (e) {
      // cut the partly written line, so the file ends on a whole record (best effort: --resume
      // drops a torn line anyway)
      if (off > 0) try { ftruncateSync(this.fd, this.size); } catch { /* the disk refuses even that */ }
      throw writeFailure(this.file, e, this.written);
    }
    this.size += buf.length;
    this.written++;
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
