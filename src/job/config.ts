// Job configuration: defaults < config file (YAML or JSON) < command-line flags. Validated
// strictly with zod (unknown keys are errors); errors name the key path and, for a file, its line
// (the file is parsed with yaml's LineCounter, so JSON configs get line numbers too).
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { clip, ConfigError, SamplingParamError } from '../errors.js';
import { DEFAULT_MODEL_DIR, type EngineOptions } from '../runtime/options.js';
import { DEFAULT_SAMPLING, resolveSamplingParams } from '../sampling/params.js';
import { mergeSampling, parseStructured, splitStructured, STRUCTURED_FIELDS, StructuredSpecError } from '../structured/spec.js';

const posInt = z.int().min(1);
// sampling parameters, and a structured-output form every line without its own follows
const samplingShape = Object.fromEntries([...Object.keys(DEFAULT_SAMPLING), ...STRUCTURED_FIELDS].map((k) => [k, z.unknown().optional()]));

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
  dtype: z.enum(['auto', 'float32', 'bfloat16', 'float16']),
  quantization: z.enum(['none', 'int8']),
  kv_cache_dtype: z.enum(['auto', 'float32', 'float16', 'int8']),
  max_num_batched_tokens: posInt,
  max_num_seqs: posInt,
  kv_cache_tokens: posInt,
  enable_prefix_caching: z.boolean(),
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

/** A job config is a few dozen keys (~1 KB). Parse time grows with size (a 10 MB, million-key file
 *  took over a minute; 1 MiB of keys still ~3 s on a busy 2-core machine), so a bigger file is
 *  refused before parsing; 256 KiB of keys parses in well under a second. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Alias expansions yaml performs before calling a document a resource-exhaustion attack. */
export const MAX_ALIAS_COUNT = 100;

/** Reads and validates a config file; errors carry "file:line: key.path ...". */
export function loadConfigFile(file: string): JobConfigInput {
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new ConfigError(file, null, '', 'is a directory; expected a YAML or JSON file');
    if (st.size > MAX_CONFIG_BYTES) throw tooBig(file, st.size);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(file, null, '', `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (bytes.length > MAX_CONFIG_BYTES) throw tooBig(file, bytes.length); // grew, or not a regular file
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ConfigError(file, null, '', `is not a text file (a NUL byte at offset ${nul}); expected YAML or JSON`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(file, null, '', 'is not UTF-8 text; expected YAML or JSON');
  }
  return parseConfigText(text, file);
}

const tooBig = (file: string, size: number) =>
  new ConfigError(file, null, '', `is ${size} bytes; a job config may be at most ${MAX_CONFIG_BYTES} bytes (256 KiB)`);

export function parseConfigText(text: string, file: string): JobConfigInput {
  if (text.length > MAX_CONFIG_BYTES) throw tooBig(file, Buffer.byteLength(text));
  const lc = new LineCounter();
  // uniqueKeys: yaml compares every pair of a map's keys (20k keys: 6 s); checkUniqueKeys is linear
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(file, lc.linePos(e.pos[0]).line, '', clip(e.message.split('\n')[0]));
  }
  checkUniqueKeys(doc, lc, file);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" file)
    if (!(e instanceof ReferenceError)) throw e;
    throw new ConfigError(file, null, '', `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions); a job config needs none`);
  }
  return validate(raw, (path) => lineOf(doc, lc, path), file);
}

/** Refuses a key given twice in one map, naming both lines. Iterative: a deeply nested file must
 *  not overflow the stack; parents are linked, so the key path is built only for the error. */
function checkUniqueKeys(doc: Document, lc: LineCounter, file: string): void {
  interface Entry { node: unknown; key: string; parent: Entry | null }
  const pathOf = (e: Entry | null): string[] => (e === null || e.parent === null ? [] : [...pathOf(e.parent), e.key]);
  const stack: Entry[] = [{ node: doc.contents, key: '', parent: null }];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (isSeq(e.node)) {
      e.node.items.forEach((node, i) => stack.push({ node, key: String(i), parent: e }));
    } else if (isMap(e.node)) {
      const seen = new Map<string, number | null>();
      for (const pair of e.node.items) {
        const keyNode = pair.key as { range?: [number, number, number] } | null;
        const key = isScalar(pair.key) ? String(pair.key.value) : null;
        if (key === null) continue;
        const line = keyNode?.range ? lc.linePos(keyNode.range[0]).line : null;
        const first = seen.get(key);
        if (first !== undefined) {
          const path = pathOf(e), where = path.length > 0 ? ` in ${clip(path.join('.'))}` : '';
          throw new ConfigError(file, line, [...path, key].join('.'), `duplicate key ${clip(JSON.stringify(key))}${where} (first on line ${first ?? '?'})`);
        }
        seen.set(key, line);
        stack.push({ node: pair.value, key, parent: e });
      }
    }
  }
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
      const where = path.length > 0 ? ` in ${clip(path.join('.'))}` : '';
      throw new ConfigError(file, line([...path, key]), [...path, key].join('.'), `unknown key ${clip(JSON.stringify(key))}${where}`);
    }
    const keyPath = path.join('.') || '(top level)';
    throw new ConfigError(file, line(path), keyPath, `${keyPath} ${describe(issue)}, got ${fmt(valueAt(raw, path))}`);
  }
  const cfg = r.data;
  if (cfg.sampling !== undefined) {
    const { params, structured } = splitStructured(cfg.sampling);
    try {
      resolveSamplingParams(params);
      parseStructured(structured);
    } catch (e) {
      if (!(e instanceof SamplingParamError) && !(e instanceof StructuredSpecError)) throw e;
      const key = e.field.split('.')[0];
      throw new ConfigError(file, line(['sampling', key]), `sampling.${e.field}`, `sampling.${e.message}`);
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

/** A given value echoed into a message: JSON, cut at 200 characters (a 10 MB value, a binary file). */
const fmt = (v: unknown): string => (v === undefined ? 'nothing' : clip(JSON.stringify(v) ?? String(v)));

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
    sampling: mergeSampling({ ...JOB_DEFAULTS.sampling, ...(file.sampling ?? {}) }, defined(flags.sampling ?? {})),
  };
  return validateMerged(merged);
}

/** The engine options of a resolved config (the one mapping from config keys to the runtime's options). */
export function engineOptions(cfg: JobConfig, workers = cfg.workers): EngineOptions {
  return {
    workers, stages: cfg.stages, replicas: cfg.replicas, tensor: cfg.tensor_parallel, headWorkers: cfg.head_workers,
    backend: cfg.backend, dtype: cfg.dtype, quantization: cfg.quantization, kvCacheDtype: cfg.kv_cache_dtype,
    maxBatchedTokens: cfg.max_num_batched_tokens, maxSeqs: cfg.max_num_seqs,
    kvCacheTokens: cfg.kv_cache_tokens, seed: cfg.seed, enablePrefixCaching: cfg.enable_prefix_caching,
  };
}
