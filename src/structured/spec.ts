// The structured-output forms a request may carry, read into one spec. OpenAI's response_format
// ({"type": "json_schema", "json_schema": {"name", "schema", "strict"}} | {"type": "json_object"}
// | {"type": "text"}), vLLM's structured_outputs ({"json"} | {"regex"} | {"choice"} |
// {"grammar"} | {"json_object": true}) and vLLM's older guided_json / guided_regex /
// guided_choice / guided_grammar. Errors name the field, what was expected and what was given.
import { clip } from '../errors.js';

export type StructuredSpec =
  | { kind: 'json'; schema: unknown; field: string }     // field: where the schema came from, for error paths
  | { kind: 'json_object'; field: string }
  | { kind: 'regex'; pattern: string; field: string }
  | { kind: 'choice'; choices: string[]; field: string }
  | { kind: 'grammar'; ebnf: string; field: string };

/** The request fields this module reads (and the sampling parameters must not). */
export const STRUCTURED_FIELDS = ['response_format', 'structured_outputs', 'guided_json', 'guided_regex', 'guided_choice', 'guided_grammar'] as const;

/** A malformed structured-output field; `field` is its path in the request. */
export class StructuredSpecError extends Error {
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

const show = (v: unknown) => clip(JSON.stringify(v) ?? String(v), 120);
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The spec from a request's fields (null: unconstrained). At most one form may be given. */
export function parseStructured(fields: Record<string, unknown>): StructuredSpec | null {
  const given = STRUCTURED_FIELDS.filter((k) => fields[k] !== undefined && fields[k] !== null);
  if (given.length > 1) throw new StructuredSpecError(given[1], `only one structured-output form per request, got ${given.join(' and ')}`);
  if (given.length === 0) return null;
  const k = given[0], v = fields[k];
  switch (k) {
    case 'response_format': return responseFormat(v);
    case 'structured_outputs': return structuredOutputs(v);
    case 'guided_json': return json(v, k);
    case 'guided_regex': return regex(v, k);
    case 'guided_choice': return choice(v, k);
    case 'guided_grammar': return grammar(v, k);
  }
}

function responseFormat(v: unknown): StructuredSpec | null {
  const f = 'response_format';
  if (!isObj(v)) throw new StructuredSpecError(f, `must be an object such as {"type": "json_schema", "json_schema": {...}}, got ${show(v)}`);
  if (v.type === 'text') return null;
  if (v.type === 'json_object') return { kind: 'json_object', field: f };
  if (v.type !== 'json_schema') throw new StructuredSpecError(`${f}.type`, `must be "json_schema", "json_object" or "text", got ${show(v.type)}`);
  const js = v.json_schema;
  if (!isObj(js)) throw new StructuredSpecError(`${f}.json_schema`, `must be an object {"name", "schema", "strict"}, got ${show(js)}`);
  if (js.name !== undefined && (typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name))) {
    throw new StructuredSpecError(`${f}.json_schema.name`, `must be 1-64 letters, digits, "_" or "-", got ${show(js.name)}`);
  }
  if (js.strict !== undefined && js.strict !== null && typeof js.strict !== 'boolean') throw new StructuredSpecError(`${f}.json_schema.strict`, `must be true or false, got ${show(js.strict)}`);
  if (js.schema === undefined) throw new StructuredSpecError(`${f}.json_schema.schema`, 'is required: the JSON Schema the output must follow');
  return json(js.schema, `${f}.json_schema.schema`);
}

function structuredOutputs(v: unknown): StructuredSpec {
  const f = 'structured_outputs';
  if (!isObj(v)) throw new StructuredSpecError(f, `must be an object with one of "json", "regex", "choice", "grammar", "json_object", got ${show(v)}`);
  const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null && v[k] !== false);
  const known = ['json', 'regex', 'choice', 'grammar', 'json_object'];
  const unknown = keys.find((k) => !known.includes(k));
  if (unknown !== undefined) throw new StructuredSpecError(`${f}.${unknown}`, `is not supported (supported: ${known.join(', ')})`);
  if (keys.length !== 1) throw new StructuredSpecError(f, `needs exactly one of ${known.join(', ')}, got ${keys.length === 0 ? 'none' : keys.join(' and ')}`);
  const k = keys[0];
  switch (k) {
    case 'json': return json(v.json, `${f}.json`);
    case 'regex': return regex(v.regex, `${f}.regex`);
    case 'choice': return choice(v.choice, `${f}.choice`);
    case 'grammar': return grammar(v.grammar, `${f}.grammar`);
    default:
      if (v.json_object !== true) throw new StructuredSpecError(`${f}.json_object`, `must be true, got ${show(v.json_object)}`);
      return { kind: 'json_object', field: `${f}.json_object` };
  }
}

/** A schema as an object, or as JSON text (vLLM accepts both). */
function json(v: unknown, field: string): StructuredSpec {
  let schema = v;
  if (typeof v === 'string') {
    try {
      schema = JSON.parse(v);
    } catch (e) {
      throw new StructuredSpecError(field, `a schema given as a string must be JSON text (${(e as Error).message})`);
    }
  }
  if (!isObj(schema) && typeof schema !== 'boolean') throw new StructuredSpecError(field, `must be a JSON Schema object, got ${show(schema)}`);
  return { kind: 'json', schema, field };
}

function regex(v: unknown, field: string): StructuredSpec {
  if (typeof v !== 'string' || v.length === 0) throw new StructuredSpecError(field, `must be a non-empty regular expression string, got ${show(v)}`);
  return { kind: 'regex', pattern: v, field };
}

function choice(v: unknown, field: string): StructuredSpec {
  if (!Array.isArray(v) || v.length === 0 || !v.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new StructuredSpecError(field, `must be a non-empty array of non-empty strings, got ${show(v)}`);
  }
  return { kind: 'choice', choices: v as string[], field };
}

function grammar(v: unknown, field: string): StructuredSpec {
  if (typeof v !== 'string' || v.trim().length === 0) throw new StructuredSpecError(field, `must be an EBNF grammar string (xgrammar/GBNF syntax, root rule "root"), got ${show(v)}`);
  return { kind: 'grammar', ebnf: v, field };
}

/** The compile-cache key: equal specs (whatever field carried them) share one compiled grammar. */
export function specKey(s: StructuredSpec): string {
  switch (s.kind) {
    case 'json': return `json\0${JSON.stringify(s.schema)}`; // property order kept: it orders the output
    case 'json_object': return 'json_object';
    case 'regex': return `regex\0${s.pattern}`;
    case 'choice': return `choice\0${JSON.stringify(s.choices)}`;
    case 'grammar': return `grammar\0${s.ebnf}`;
  }
}

/** A request's sampling over the job's: a request's own structured-output form replaces the job's. */
export function mergeSampling(job: Record<string, unknown>, own: Record<string, unknown> = {}): Record<string, unknown> {
  const ownForm = STRUCTURED_FIELDS.some((k) => own[k] !== undefined);
  const base = ownForm ? Object.fromEntries(Object.entries(job).filter(([k]) => !(STRUCTURED_FIELDS as readonly string[]).includes(k))) : job;
  return { ...base, ...own };
}

/** Splits structured-output fields from the sampling parameters. */
export function splitStructured(sampling: Record<string, unknown>): { params: Record<string, unknown>; structured: Record<string, unknown> } {
  const params: Record<string, unknown> = {}, structured: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sampling)) ((STRUCTURED_FIELDS as readonly string[]).includes(k) ? structured : params)[k] = v;
  return { params, structured };
}
