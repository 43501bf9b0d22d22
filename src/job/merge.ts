// Joins shard outputs into one file in input order: by the original input's custom_id order when
// it is given, else by custom_id in natural order ("line-2" before "line-10"). Every line of every
// shard must be a whole output record: a corrupt or torn line, or a file that is not a shard output
// at all, stops the merge before it writes anything (skipping one would drop a request silently).
import { statSync } from 'node:fs';
import { clip, JobError } from '../errors.js';
import { checkInputFile, checkWritableFile, makeParentDir, OutputLock, sameFile, writing } from './files.js';
import { detectFormat, readLines, scanInput } from './input.js';
import { RecordWriter } from './output.js';
import { completeLength, startOutput } from './resume.js';
import { naturalCompare } from './shard.js';

export interface MergeResult { written: number; missing: string[]; extra: string[] }

/** Bad lines named in the error; the rest are counted. */
const SHOWN = 5;

/** Why a shard line is not a whole output record, or null when it is one (with its custom_id). */
function recordId(text: string): { id: string } | { why: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { why: `not a JSON record (${clip((e as Error).message, 120)})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { why: `not an output record (a JSON ${Array.isArray(v) ? 'array' : typeof v})` };
  const o = v as Record<string, unknown>;
  if (typeof o.custom_id !== 'string') return { why: 'record has no custom_id' };
  if (!('response' in o) || !('error' in o)) {
    return { why: `not an output record (keys ${clip(Object.keys(o).join(', '), 80)}; a shard output has "custom_id", "response" and "error")` };
  }
  return { id: o.custom_id };
}

export async function mergeOutputs(inputs: string[], output: string, original?: string): Promise<MergeResult> {
  if (inputs.length === 0) throw new JobError('merge needs at least one shard output');
  if (original !== undefined) {
    checkInputFile('--input', original);
    if (sameFile(original, output)) throw new JobError(`output ${clip(output)} is the --input file`, 'same_file');
  }
  for (const f of inputs) {
    checkInputFile('shard', f);
    if (sameFile(f, output)) throw new JobError(`output ${clip(output)} is one of the shard files`, 'same_file');
    if (original !== undefined && sameFile(f, original)) {
      throw new JobError(`shard ${clip(f)} is the job input (--input), not a shard output`, 'same_file');
    }
  }
  checkWritableFile('output', output);
  const lines = new Map<string, string>();
  const bad: string[] = [];
  for (const file of inputs) {
    const size = statSync(file).size, keep = completeLength(file, size);
    let n = 0;
    for await (const line of readLines(file, keep)) {
      n = line.n;
      const r = recordId(line.text);
      if ('why' in r) { bad.push(`${clip(file)}:${line.n}: ${r.why}`); continue; }
      if (lines.has(r.id)) throw new JobError(`${clip(file)}:${line.n}: custom_id ${clip(JSON.stringify(r.id))} is in more than one shard output`, 'corrupt_output');
      lines.set(r.id, line.text);
    }
    if (keep < size) bad.push(`${clip(file)}:${n + 1}: torn last line (${size - keep} bytes without a newline: the shard was interrupted mid-write)`);
  }
  if (bad.length > 0) {
    const more = bad.length > SHOWN ? `; and ${bad.length - SHOWN} more` : '';
    throw new JobError(`${bad.length} shard line(s) are not whole output records, so nothing was merged: ${bad.slice(0, SHOWN).join('; ')}${more}. ` +
      'Rerun an interrupted shard with --resume (it drops a torn last line), then merge again.', 'corrupt_output');
  }
  let order: string[];
  if (original !== undefined) order = (await scanInput(original, detectFormat(original), () => true, true)).ids;
  else order = [...lines.keys()].sort(naturalCompare);
  const known = new Set(order);
  makeParentDir('output', output);
  const lock = OutputLock.acquire(output);
  const missing: string[] = [];
  try {
    const w = writing('output', output, () => {
      startOutput(output, false);
      return new RecordWriter(output);
    });
    try {
      for (const id of order) {
        const text = lines.get(id);
        if (text === undefined) missing.push(id);
        else w.writeLine(text);
      }
    } finally {
      w.close();
    }
  } finally {
    lock.release();
  }
  return { written: order.length - missing.length, missing, extra: [...lines.keys()].filter((id) => !known.has(id)) };
}
