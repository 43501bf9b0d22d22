// Resuming: the output file is the only state. A torn last line (no final newline: the process
// died mid-write) is cut off; every complete line's custom_id counts as done.
import { closeSync, existsSync, openSync, readSync, statSync, truncateSync } from 'node:fs';
import { JobError } from '../errors.js';
import { readLines } from './input.js';

export interface ResumeState { done: Set<string>; tornBytes: number }

/** Without resume the output starts empty; with it, returns the custom_ids already written. */
export async function prepareOutput(file: string, resume: boolean): Promise<ResumeState> {
  if (!existsSync(file)) return { done: new Set(), tornBytes: 0 };
  if (!resume) {
    truncateSync(file, 0);
    return { done: new Set(), tornBytes: 0 };
  }
  const size = statSync(file).size;
  const keep = completeLength(file, size);
  if (keep < size) truncateSync(file, keep);
  const done = new Set<string>();
  for await (const line of readLines(file)) {
    let id: unknown;
    try {
      id = (JSON.parse(line.text) as { custom_id?: unknown }).custom_id;
    } catch {
      throw new JobError(`${file}:${line.n}: not a JSON record; cannot resume from this output`);
    }
    if (typeof id !== 'string') throw new JobError(`${file}:${line.n}: record has no custom_id; cannot resume from this output`);
    done.add(id);
  }
  return { done, tornBytes: size - keep };
}

/** Bytes up to and including the last newline. */
function completeLength(file: string, size: number): number {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const got = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, got).lastIndexOf(0x0a);
      if (i >= 0) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}
