// Job configuration: defaults < config file (YAML or JSON) < command-line flags. Validated
// strictly with zod (unknown keys are errors); errors name the key path and, for a file, its line
// (the file is parsed with yaml's LineCounter, so JSON configs get line numbers too).
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ConfigError, SamplingParamError } from '../errors.js';
import { DEFAULT_MODEL_DIR, type EngineOptions } from '../runtime/options.js';
import { DEFAULT_SAMPLING, resolveSamplingParams } from '../sampling/params.js';

const posInt = z.int().min(1);
const samplingShape = Object.fromEntries(Object.keys(DEFAULT_SAMPLING).map((k) => [k, z.unknown().optional()]));

export const JobConfigSchema = z.strictObject({
  model: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
  input_format: z.enum(['auto', 'openai', 'jsonl', 'text']),
  workers: posInt,
  stages: posInt,
  replicas: posInt,
  tensor_parallel: posInt,
  head_workers: posInt,
  backend: z.string().min(1),
  max_num_batched_tokens: posInt,
  max_num_seqs: posInt,
  kv_cache_tokens: posInt,
  seed: z.int(),
  max_in_flight: posInt,
  progress_interval_s: z.number().positive(),
  shard_index: z.int().min(0),
  num_shards: posInt,
  metrics_json: z.string().min(1),
  profile: z.string().min(1),
  sampling: z.strictObject(samplingShape),
}).partial();

export type JobConfigInput = z.infer<typeof JobConfigSchema>;

export interface JobConfig extends JobConfigInput {
  model: string;
  input_format: 'auto' | 'openai' | 'jsonl' | 'text';
  backend: string;
  max_num_batched_tokens: number;
  max_num_seqs: number;
  seed: number;
  max_in_flight: number;
  progress_interval_s: number;
  sampling: Record<string, unknown>;
}

export const JOB_DEFAULTS: Readonly<JobConfig> = Object.freeze({
  model: DEFAULT_MODEL_DIR, input_format: 'auto', backend: 'auto', max_num_batched_tokens: 256, max_num_seqs: 32,
  seed: 0, max_in_flight: 256, progress_interval_s: 5, sampling: {},
});

/** Reads and validates a config file; errors carry "file:line: key.path ...". */
export function loadConfigFile(file: string): JobConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, null, '', `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): JobConfigInput {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(file, lc.linePos(e.pos[0]).line, '', e.message.split('\n')[0]);
  }
  const raw: unknown = doc.toJS() ?? {};
  return validate(raw, (path) => lineOf(doc, lc, path), file);
}

/** Checks a merged config (the flags over the file); errors name the key path only. */
export function validateMerged(raw: unknown): JobConfig {
  return validate(raw, () => null, null) as JobConfig;
}

function validate(raw: unknown, line: (path: PropertyKey[]) => number | null, file: string | null): JobConfigInput {
  const r = JobConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0];
      const where = path.length > 0 ? ` in ${path.join('.')}` : '';
      throw new ConfigError(file, line([...path, key]), [...path, key].join('.'), `unknown key ${JSON.stringify(key)}${where}`);
    }
    const keyPath = path.join('.') || '(top level)';
    throw new ConfigError(file, line(path), keyPath, `${keyPath} ${describe(issue)}, got ${fmt(valueAt(raw, path))}`);
  }
  const cfg = r.data;
  if (cfg.sampling !== undefined) {
    try {
      resolveSamplingParams(cfg.sampling);
    } catch (e) {
      if (!(e instanceof SamplingParamError)) throw e;
      throw new ConfigError(file, line(['sampling', e.field]), `sampling.${e.field}`, `sampling.${e.message}`);
    }
  }
  if (cfg.shard_index !== undefined && cfg.num_shards !== undefined && cfg.shard_index >= cfg.num_shards) {
    throw new ConfigError(file, line(['shard_index']), 'shard_index', `shard_index must be < num_shards ${cfg.num_shards}, got ${cfg.shard_index}`);
  }
  return cfg;
}

type Issue = z.core.$ZodIssue;
function describe(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type': return issue.expected === 'int' ? 'must be an integer' : `must be a ${issue.expected}`;
    case 'too_small': return issue.origin === 'string' ? 'must not be empty' : `must be ≥ ${String(issue.minimum)}${issue.inclusive === false ? ' (exclusive)' : ''}`;
    case 'too_big': return `must be ≤ ${String(issue.maximum)}`;
    case 'invalid_value': return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default: return issue.message;
  }
}

const fmt = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** 1-based line of the deepest key of `path` that exists in the document. */
function lineOf(doc: Document, lc: LineCounter, path: PropertyKey[]): number | null {
  let node: unknown = doc.contents;
  let found: number | null = isMap(node) && node.range ? lc.linePos(node.range[0]).line : null;
  for (const k of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(k));
    if (!pair) break;
    const keyNode = pair.key as { range?: [number, number, number] };
    if (keyNode.range) found = lc.linePos(keyNode.range[0]).line;
    node = pair.value;
  }
  return found;
}

/** defaults < file < flags; sampling is merged field by field. */
export function mergeConfig(file: JobConfigInput, flags: JobConfigInput): JobConfig {
  const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const merged = {
    ...JOB_DEFAULTS, ...defined(file), ...defined(flags),
    sampling: { ...JOB_DEFAULTS.sampling, ...(file.sampling ?? {}), ...defined(flags.sampling ?? {}) },
  };
  return validateMerged(merged);
}

/** The engine options of a resolved config (the one mapping from config keys to the runtime's options). */
export function engineOptions(cfg: JobConfig, workers = cfg.workers): EngineOptions {
  return {
    workers, stages: cfg.stages, replicas: cfg.replicas, tensor: cfg.tensor_parallel, headWorkers: cfg.head_workers,
    backend: cfg.backend, maxBatchedTokens: cfg.max_num_batched_tokens, maxSeqs: cfg.max_num_seqs,
    kvCacheTokens: cfg.kv_cache_tokens, seed: cfg.seed,
  };
}
