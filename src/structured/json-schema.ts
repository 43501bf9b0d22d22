// JSON Schema → xgrammar EBNF for compact one-line JSON (no whitespace, "," and ":"), written here
// rather than taken from xgrammar 0.1.27, whose conversion lets raw control characters into
// maxLength strings and does not enforce minimum/maximum. What a schema asks that this grammar
// cannot guarantee is refused, naming the keyword's path, so that every output that completes
// validates against its schema:
//   supported: type (or a list), enum, const, properties, required, additionalProperties,
//   items, minItems, maxItems, minLength, maxLength, minimum, maximum, exclusiveMinimum,
//   exclusiveMaximum (integers: any bounds; numbers: integer bounds), anyOf, oneOf (branches
//   must not overlap: as anyOf), $ref into $defs / definitions, and annotations (title,
//   description, default, examples, format: not enforced, as JSON Schema 2020-12 says).
// Objects list their properties in the schema's order; optional ones may be left out.
import { integerRange, numberRange } from './numeric-range.js';

/** A schema keyword the grammar cannot honour; `path` is its JSON path, e.g. $.properties.age.minimum. */
export class SchemaError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
  }
}

const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', '$comment', 'format',
  'deprecated', 'readOnly', 'writeOnly', '$defs', 'definitions', 'contentMediaType', 'contentEncoding']);
const HANDLED = new Set(['type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'minItems',
  'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'anyOf', 'oneOf', '$ref']);
const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null'] as const;
type Type = typeof TYPES[number];

// any JSON value, compact; strings never hold a raw control character (JSON forbids them)
const BASE_RULES = [
  'j_value ::= j_object | j_array | j_string | j_number | "true" | "false" | "null"',
  'j_value_end ::= j_object | j_array | j_string_end | j_number | "true" | "false" | "null"',
  'j_object ::= "{" (j_string ":" j_value ("," j_string ":" j_value)*)? "}"',
  'j_array ::= "[" (j_value ("," j_value)*)? "]"',
  // the string's tail as xgrammar's own builtin writes it (right recursion, and a lookahead for
  // what may follow a value): a `j_char*` form measured 25-80 ms per mask, this one ~0.1 ms
  'j_string ::= "\\"" j_string_tail',
  'j_string_tail ::= ("\\"" | [^"\\\\\\0-\\x1f] j_string_tail | "\\\\" j_escape j_string_tail) (= [,}\\]:])',
  'j_string_end ::= "\\"" j_string_end_tail', // a string that ends the output: nothing may follow
  'j_string_end_tail ::= "\\"" | [^"\\\\\\0-\\x1f] j_string_end_tail | "\\\\" j_escape j_string_end_tail',
  'j_char ::= [^"\\\\\\0-\\x1f] | "\\\\" j_escape',
  'j_escape ::= ["\\\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F]',
  'j_number ::= "-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)?',
];

type Schema = boolean | Record<string, unknown>;

/** An EBNF string literal for exact text (JSON text is already free of raw control characters). */
export function ebnfLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

class Converter {
  private readonly rules: string[] = [];
  private readonly refs = new Map<string, string>(); // "#/$defs/X" → rule name
  private n = 0;
  private chain = -1;    // longest j_s<k> string chain written so far
  private chainEnd = -1; // same, for strings that end the output (no lookahead)
  constructor(private readonly root: Schema) {}

  run(): string {
    const top = this.node(this.root, '$', true);
    return ['root ::= ' + top, ...this.rules, ...BASE_RULES].join('\n');
  }

  private rule(body: string): string {
    const name = `r${this.n++}`;
    this.rules.push(`${name} ::= ${body}`);
    return name;
  }

  /** An EBNF expression for values valid under schema s (at JSON path `path`). */
  private node(s: unknown, path: string, last = false): string {
    if (s === true) return last ? 'j_value_end' : 'j_value';
    if (s === false) throw new SchemaError(path, 'the schema false accepts no value');
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new SchemaError(path, `a schema must be an object or a boolean, got ${JSON.stringify(s)}`);
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!HANDLED.has(k) && !ANNOTATIONS.has(k)) throw new SchemaError(`${path}.${k}`, `the keyword "${k}" is not supported in structured outputs (supported: ${[...HANDLED].join(', ')})`);
    }
    if (o.$ref !== undefined) return this.ref(o, path, last);
    if (o.enum !== undefined || o.const !== undefined) return this.literals(o, path);
    const alts = (o.anyOf ?? o.oneOf) as unknown;
    if (alts !== undefined) {
      const key = o.anyOf !== undefined ? 'anyOf' : 'oneOf';
      if (o.anyOf !== undefined && o.oneOf !== undefined) throw new SchemaError(`${path}.oneOf`, 'anyOf and oneOf together are not supported');
      if (!Array.isArray(alts) || alts.length === 0) throw new SchemaError(`${path}.${key}`, 'must be a non-empty array of schemas');
      const rest = Object.keys(o).filter((k) => k !== key && !ANNOTATIONS.has(k));
      if (rest.length > 0) throw new SchemaError(`${path}.${rest[0]}`, `"${rest[0]}" beside ${key} is not supported: move it into each branch`);
      return this.rule(alts.map((b, i) => this.node(b, `${path}.${key}[${i}]`, last)).join(' | '));
    }
    const types = this.types(o, path);
    if (types.length === 0) return last ? 'j_value_end' : 'j_value';
    return this.rule(types.map((t) => this.typed(t, o, path, last)).join(' | '));
  }

  private types(o: Record<string, unknown>, path: string): Type[] {
    const t = o.type;
    if (t === undefined) {
      if (o.properties !== undefined || o.additionalProperties !== undefined || o.required !== undefined) return ['object'];
      if (o.items !== undefined || o.minItems !== undefined || o.maxItems !== undefined) return ['array'];
      if (o.minLength !== undefined || o.maxLength !== undefined) return ['string'];
      if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((k) => o[k] !== undefined)) return ['number'];
      return [];
    }
    const list = Array.isArray(t) ? t : [t];
    for (const [i, x] of list.entries()) {
      if (!TYPES.includes(x as Type)) throw new SchemaError(`${path}.type${Array.isArray(t) ? `[${i}]` : ''}`, `must be one of ${TYPES.join(', ')}, got ${JSON.stringify(x)}`);
    }
    if (list.length === 0) throw new SchemaError(`${path}.type`, 'must not be an empty list');
    return list as Type[];
  }

  /** `last`: the value ends the whole output (a string's lookahead for a following "," or "}" cannot hold). */
  private typed(t: Type, o: Record<string, unknown>, path: string, last: boolean): string {
    switch (t) {
      case 'object': return this.object(o, path);
      case 'array': return this.array(o, path);
      case 'string': return this.string(o, path, last);
      case 'integer': return this.integer(o, path);
      case 'number': return this.number(o, path);
      case 'boolean': return '"true" | "false"';
      case 'null': return '"null"';
    }
  }

  private ref(o: Record<string, unknown>, path: string, last: boolean): string {
    const ref = o.$ref;
    const m = typeof ref === 'string' ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
    if (m === null) throw new SchemaError(`${path}.$ref`, `only "#/$defs/<name>" and "#/definitions/<name>" are supported, got ${JSON.stringify(ref)}`);
    const rest = Object.keys(o).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
    if (rest.length > 0) throw new SchemaError(`${path}.${rest[0]}`, `"${rest[0]}" beside $ref is not supported`);
    const defs = typeof this.root === 'object' ? (this.root[m[1]] as Record<string, unknown> | undefined) : undefined;
    const name = m[2].replace(/~1/g, '/').replace(/~0/g, '~');
    if (defs === undefined || typeof defs !== 'object' || !Object.hasOwn(defs, name)) throw new SchemaError(`${path}.$ref`, `${JSON.stringify(ref)} names no definition`);
    // the whole output: its own copy (a string that ends the output has no lookahead)
    if (last) return this.node(defs[name], `$.${m[1]}.${name}`, true);
    const known = this.refs.get(ref as string);
    if (known !== undefined) return known;
    // a rule name first, its body after: recursive schemas refer to themselves through it
    const rule = `r${this.n++}`;
    this.refs.set(ref as string, rule);
    this.rules.push(`${rule} ::= ${this.node(defs[name], `$.${m[1]}.${name}`)}`);
    return rule;
  }

  private literals(o: Record<string, unknown>, path: string): string {
    const key = o.const !== undefined ? 'const' : 'enum';
    const values = key === 'const' ? [o.const] : o.enum;
    if (!Array.isArray(values) || values.length === 0) throw new SchemaError(`${path}.enum`, 'must be a non-empty array');
    const types = this.types(o, path);
    const kinds = values.map(jsonType);
    const bad = kinds.findIndex((k) => types.length > 0 && !types.includes(k) && !(k === 'integer' && types.includes('number')));
    if (bad >= 0) throw new SchemaError(`${path}.${key}${key === 'enum' ? `[${bad}]` : ''}`, `${JSON.stringify(values[bad])} is not of type ${types.join(' or ')}`);
    return this.rule([...new Set(values.map((v) => JSON.stringify(v)))].map(ebnfLiteral).join(' | '));
  }

  private object(o: Record<string, unknown>, path: string): string {
    const props = (o.properties ?? {}) as Record<string, unknown>;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new SchemaError(`${path}.properties`, 'must be an object of schemas');
    const required = (o.required ?? []) as unknown[];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) throw new SchemaError(`${path}.required`, 'must be an array of property names');
    const missing = required.findIndex((r) => !Object.hasOwn(props, r as string));
    if (missing >= 0) throw new SchemaError(`${path}.required[${missing}]`, `${JSON.stringify(required[missing])} is not among the properties`);
    const names = Object.keys(props);
    const extra = o.additionalProperties;
    if (names.length === 0) {
      if (extra === false) return '"{}"';
      const value = extra === undefined || extra === true ? 'j_value' : this.node(extra, `${path}.additionalProperties`);
      return `"{" (j_string ":" ${value} ("," j_string ":" ${value})*)? "}"`;
    }
    // the declared properties alone (valid whatever additionalProperties says); tail(i, first)
    // = properties i.. given whether nothing has been written yet (then no leading comma)
    const kv = names.map((k) => `${ebnfLiteral(JSON.stringify(k))} ":" ${this.node(props[k], `${path}.properties.${k}`)}`);
    const isReq = names.map((k) => required.includes(k));
    const tails = new Map<string, string>();
    const tail = (i: number, first: boolean): string => {
      if (i === names.length) return '""';
      const key = `${i}${first}`;
      const seen = tails.get(key);
      if (seen !== undefined) return seen;
      const here = `${first ? '' : '"," '}${kv[i]} ${tail(i + 1, false)}`;
      const body = isReq[i] ? here : `(${here}) | ${tail(i + 1, first)}`;
      const r = this.rule(body);
      tails.set(key, r);
      return r;
    };
    return `"{" ${tail(0, true)} "}"`;
  }

  // Bounded lengths are chains of rules (k_n ::= end | element k_{n-1}), not xgrammar's {m,n}:
  // with {0,400} on a string a mask took 1.3 s; the chain, ~10 ms to compile per link, then ~20 µs.
  private array(o: Record<string, unknown>, path: string): string {
    const item = o.items === undefined ? 'j_value' : this.node(o.items, `${path}.items`);
    const min = count(o, 'minItems', path) ?? 0, max = count(o, 'maxItems', path, MAX_ITEMS);
    if (max !== null && max < min) throw new SchemaError(`${path}.maxItems`, `must be ≥ minItems (${min}), got ${max}`);
    if (max === 0) return '"[]"';
    const firsts = [item, ...Array.from({ length: Math.max(min - 1, 0) }, () => `"," ${item}`)].join(' ');
    if (max === null) return min === 0 ? `"[" (${item} ("," ${item})*)? "]"` : `"[" ${firsts} ("," ${item})* "]"`;
    // more(k): "]" or up to k more items
    const name = `r${this.n++}_more`;
    for (let k = 0; k <= max - Math.max(min, 1); k++) this.rules.push(`${name}${k} ::= "]"${k > 0 ? ` | "," ${item} ${name}${k - 1}` : ''}`);
    const rest = `${name}${max - Math.max(min, 1)}`;
    return min === 0 ? `"[" ("]" | ${item} ${rest})` : `"[" ${firsts} ${rest}`;
  }

  private string(o: Record<string, unknown>, path: string, last: boolean): string {
    const min = count(o, 'minLength', path) ?? 0, max = count(o, 'maxLength', path, MAX_LENGTH);
    if (max !== null && max < min) throw new SchemaError(`${path}.maxLength`, `must be ≥ minLength (${min}), got ${max}`);
    if (min === 0 && max === null) return last ? 'j_string_end' : 'j_string';
    const firsts = Array.from({ length: min }, () => 'j_char').join(' ');
    const rest = max === null ? (last ? 'j_string_end_tail' : 'j_string_tail') : this.stringChain(max - min, last);
    return `"\\"" ${firsts} ${rest}`;
  }

  /** s_k: the rest of a string of at most k more characters, closing quote included (shared by every string). */
  private stringChain(k: number, last: boolean): string {
    const p = last ? 'j_end_s' : 'j_s', look = last ? '' : ' (= [,}\\]:])';
    const have = last ? this.chainEnd : this.chain;
    for (let i = have + 1; i <= k; i++) {
      this.rules.push(i === 0 ? `${p}0 ::= "\\""${look}` : `${p}${i} ::= ("\\"" | [^"\\\\\\0-\\x1f] ${p}${i - 1} | "\\\\" j_escape ${p}${i - 1})${look}`);
    }
    if (last) this.chainEnd = Math.max(have, k);
    else this.chain = Math.max(have, k);
    return `${p}${k}`;
  }

  private integer(o: Record<string, unknown>, path: string): string {
    const b = bounds(o, path, false);
    let lo = b.lo, hi = b.hi;
    if (lo !== null && b.exLo) lo += 1n;
    if (hi !== null && b.exHi) hi -= 1n;
    const body = integerRange(lo, hi);
    if (body === '') throw new SchemaError(`${path}.minimum`, 'no integer lies within the bounds');
    return body;
  }

  private number(o: Record<string, unknown>, path: string): string {
    const b = bounds(o, path, true);
    if (b.lo === null && b.hi === null) return 'j_number';
    const body = numberRange(b);
    if (body === '') throw new SchemaError(`${path}.minimum`, 'no number lies within the bounds');
    return body;
  }
}

function jsonType(v: unknown): Type {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as Type;
}

// a bounded length costs a grammar rule per unit (~10 ms of compile each for a 50k vocabulary)
const MAX_LENGTH = 2000, MAX_ITEMS = 256, MAX_MIN = 100_000;

function count(o: Record<string, unknown>, key: string, path: string, limit = MAX_MIN): number | null {
  const v = o[key];
  if (v === undefined) return null;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > limit) {
    throw new SchemaError(`${path}.${key}`, `must be an integer in [0, ${limit}]${limit < MAX_MIN ? ' (longer bounds are not supported)' : ''}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** minimum/maximum/exclusive* as integer bounds (draft-04's boolean exclusive* included). */
function bounds(o: Record<string, unknown>, path: string, isNumber: boolean) {
  let lo: bigint | null = null, hi: bigint | null = null, exLo = false, exHi = false;
  const take = (key: string, v: unknown): bigint => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(`${path}.${key}`, `must be a number, got ${JSON.stringify(v)}`);
    if (!Number.isInteger(v)) {
      if (isNumber) throw new SchemaError(`${path}.${key}`, `bounds on a "number" must be integers here (the grammar enforces them exactly), got ${v}`);
      // an integer bound from a fractional one: minimum 1.5 → 2, maximum 1.5 → 1
      return BigInt(key.toLowerCase().includes('min') ? Math.ceil(v) : Math.floor(v));
    }
    return BigInt(v);
  };
  if (o.minimum !== undefined) lo = take('minimum', o.minimum);
  if (o.maximum !== undefined) hi = take('maximum', o.maximum);
  if (typeof o.exclusiveMinimum === 'boolean') exLo = o.exclusiveMinimum;
  else if (o.exclusiveMinimum !== undefined) {
    const v = take('exclusiveMinimum', o.exclusiveMinimum);
    if (lo === null || v >= lo) { lo = v; exLo = true; }
  }
  if (typeof o.exclusiveMaximum === 'boolean') exHi = o.exclusiveMaximum;
  else if (o.exclusiveMaximum !== undefined) {
    const v = take('exclusiveMaximum', o.exclusiveMaximum);
    if (hi === null || v <= hi) { hi = v; exHi = true; }
  }
  // an integer exclusive bound from a fractional one is already strict: 1.5 → ≥ 2
  if (!isNumber) {
    if (typeof o.exclusiveMinimum === 'number' && !Number.isInteger(o.exclusiveMinimum) && lo === BigInt(Math.ceil(o.exclusiveMinimum))) exLo = false;
    if (typeof o.exclusiveMaximum === 'number' && !Number.isInteger(o.exclusiveMaximum) && hi === BigInt(Math.floor(o.exclusiveMaximum))) exHi = false;
  }
  return { lo, hi, exLo: exLo && lo !== null, exHi: exHi && hi !== null };
}

/** The EBNF (root rule "root") of compact JSON valid under the schema; SchemaError names what it cannot honour. */
export function schemaToEbnf(schema: unknown): string {
  return new Converter(schema as Schema).run();
}

/** EBNF for any JSON object (response_format json_object). */
export function anyObjectEbnf(): string {
  return ['root ::= j_object', ...BASE_RULES].join('\n');
}
