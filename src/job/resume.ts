// Resuming: the output file is the only state. A torn last line (no final newline: the process
// died mid-write) is cut off; every complete line's custom_id counts as done. Reading the state
// (readResumeState) changes nothing, so a job checks it before the model loads and truncates
// (startOutput) only once the engine runs.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, truncateSync } from 'node:fs';
import { resolve } from 'node:path';
import { clip, JobError } from '../errors.js';
import type { JobConfig } from './config.js';
import { readLines } from './input.js';

export interface ResumeState { done: Set<string>; tornBytes: number; keepBytes: number }

const EMPTY = (): ResumeState => ({ done: new Set(), tornBytes: 0, keepBytes: 0 });

/** The custom_ids already written and how much of the file is whole lines; reads only. */
export async function readResumeState(file: string): Promise<ResumeState> {
  if (!existsSync(file)) return EMPTY();
  const size = statSync(file).size;
  const keep = completeLength(file, size);
  const done = new Set<string>();
  for await (const line of readLines(file, keep)) {
    let id: unknown;
    try {
      id = (JSON.parse(line.text) as { custom_id?: unknown }).custom_id;
    } catch {
      throw new JobError(`${clip(file)}:${line.n}: not a JSON record; cannot resume from this output`, 'corrupt_output');
    }
    if (typeof id !== 'string') throw new JobError(`${clip(file)}:${line.n}: record has no custom_id; cannot resume from this output`, 'corrupt_output');
    done.add(id);
  }
  return { done, tornBytes: size - keep, keepBytes: keep };
}

/** Makes the output what the run appends to: empty without resume, else cut to its whole lines. */
export function startOutput(file: string, resume: boolean, state?: ResumeState): void {
  if (!existsSync(file)) return;
  if (!resume) truncateSync(file, 0);
  else if (state && state.tornBytes > 0) truncateSync(file, state.keepBytes);
}

/** readResumeState + startOutput at once (merge, tests): without resume the output starts empty. */
export async function prepareOutput(file: string, resume: boolean): Promise<ResumeState> {
  const state = resume ? await readResumeState(file) : EMPTY();
  startOutput(file, resume, state);
  return state;
}

/** Bytes up to and including the last newline. */
export function completeLength(file: string, size: number): number {
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

/** What decides a record's content: resuming under other values would mix two configurations'
 *  records in one file. Worker layout and backend only change speed, so they may differ. */
function fingerprint(cfg: Partial<JobConfig>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    model: typeof cfg.model === 'string' ? resolve(cfg.model) : cfg.model, seed: cfg.seed, input_format: cfg.input_format,
    shard_index: cfg.shard_index, num_shards: cfg.num_shards,
  };
  const s = (cfg.sampling ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(s).sort()) out[`sampling.${k}`] = s[k];
  return out;
}

/** Keys whose values differ between the config an output was written with and this run's. */
export function configDifferences(prev: Partial<JobConfig>, cur: Partial<JobConfig>): string[] {
  const a = fingerprint(prev), b = fingerprint(cur);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} (${clip(JSON.stringify(a[k]) ?? 'unset', 60)} → ${clip(JSON.stringify(b[k]) ?? 'unset', 60)})`);
}

/** Compares OUTPUT.config.json (if any) with this run's config; returns the differences, and
 *  refuses them unless `force` (--resume-force). */
export function checkResumeConfig(configFile: string, cur: Partial<JobConfig>, force: boolean): string[] {
  if (!existsSync(configFile)) return []; // written by an older pipegpt, or removed: nothing to compare
  let prev: Partial<JobConfig>;
  try {
    prev = JSON.parse(readFileSync(configFile, 'utf8')) as Partial<JobConfig>;
  } catch (e) {
    if (force) return [`${configFile} unreadable`];
    throw new JobError(`--resume: ${clip(configFile)} is not valid JSON (${clip((e as Error).message)}); cannot tell which settings the output was written with. ` +
      'Use --resume-force to resume anyway.', 'resume_mismatch');
  }
  const diff = configDifferences(prev, cur);
  if (diff.length > 0 && !force) {
    throw new JobError(`--resume: the output was written with other settings than this run's: ${diff.join(', ')} (from ${clip(configFile)}). ` +
      'Resuming would put records of both in one file; run with the same settings, write to another -o, or pass --resume-force to resume anyway.', 'resume_mismatch');
  }
  return diff;
}
