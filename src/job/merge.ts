// Joins shard outputs into one file in input order: by the original input's custom_id order when
// it is given, else by custom_id in natural order ("line-2" before "line-10").
import { JobError } from '../errors.js';
import { detectFormat, readLines, scanInput } from './input.js';
import { RecordWriter } from './output.js';
import { prepareOutput } from './resume.js';
import { naturalCompare } from './shard.js';

export interface MergeResult { written: number; missing: string[]; extra: string[] }

export async function mergeOutputs(inputs: string[], output: string, original?: string): Promise<MergeResult> {
  if (inputs.length === 0) throw new JobError('merge needs at least one shard output');
  const lines = new Map<string, string>();
  for (const file of inputs) {
    for await (const line of readLines(file)) {
      let id: unknown;
      try {
        id = (JSON.parse(line.text) as { custom_id?: unknown }).custom_id;
      } catch {
        continue; // a torn last line (a shard killed mid-write): that request is not done
      }
      if (typeof id !== 'string') throw new JobError(`${file}:${line.n}: record has no custom_id`);
      if (lines.has(id)) throw new JobError(`${file}:${line.n}: custom_id ${JSON.stringify(id)} is in more than one shard output`);
      lines.set(id, line.text);
    }
  }
  let order: string[];
  if (original !== undefined) order = (await scanInput(original, detectFormat(original), () => true, true)).ids;
  else order = [...lines.keys()].sort(naturalCompare);
  const known = new Set(order);
  await prepareOutput(output, false);
  const w = new RecordWriter(output);
  const missing: string[] = [];
  try {
    for (const id of order) {
      const text = lines.get(id);
      if (text === undefined) missing.push(id);
      else w.writeLine(text);
    }
  } finally {
    w.close();
  }
  return { written: order.length - missing.length, missing, extra: [...lines.keys()].filter((id) => !known.has(id)) };
}
