// Every output a grammar lets through is valid: random walks over real vocabularies (GPT-2's
// tiktoken, Llama 3's byte-level BPE, Llama 2's SentencePiece with byte fallback), each step a
// token the mask allows, until the grammar takes its stop token. Each finished walk's bytes must
// be UTF-8, parse as JSON and validate against the schema with ajv (an independent validator),
// or match the regex / choice. Schemas the grammar cannot honour are refused with the keyword's path.
import test from 'ava';
import { Ajv } from 'ajv';
import { GrammarEngine, type Constraint } from '../../src/structured/grammars.js';
import type { StructuredSpec } from '../../src/structured/spec.js';
import { RequestError } from '../../src/errors.js';
import { engineTokenizer } from '../../src/runtime/tokenizer.js';
import { readModelConfig } from '../../src/model/config.js';
import { DEFAULT_MODEL_DIR } from '../../src/runtime/options.js';
import type { Tokenizer } from '../../src/tokenizer/types.js';
import { loadVariant } from '../helpers/tokenizer-files.js';

const ajv = new Ajv({ strict: false, validateFormats: false });
const gpt2 = engineTokenizer(DEFAULT_MODEL_DIR, readModelConfig(`${DEFAULT_MODEL_DIR}/config.json`));

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** One walk: bytes of the tokens taken, and whether the grammar finished (took a stop id). */
function walk(c: Constraint, tok: Tokenizer, V: number, stop: readonly number[], r: () => number, maxSteps = 300) {
  const bytes: number[] = [];
  for (let step = 0; step < maxSteps; step++) {
    const allowed: number[] = [];
    for (let j = 0; j < c.mask.length; j++) {
      let m = c.mask[j];
      while (m !== 0) { const b = 31 - Math.clz32(m & -m); m &= m - 1; if (j * 32 + b < V) allowed.push(j * 32 + b); }
    }
    if (allowed.length === 0) throw new Error('the mask allows nothing');
    const stops = allowed.filter((id) => stop.includes(id));
    const short = allowed.filter((id) => !stop.includes(id) && tok.tokenBytes(id).length === 1);
    // end when allowed (half the time); lean on 1-byte tokens so strings and arrays close
    const pool = stops.length > 0 && r() < 0.5 ? stops : short.length > 0 && r() < 0.6 ? short : allowed;
    const id = pool[Math.floor(r() * pool.length)];
    if (!c.accept(id)) throw new Error(`the grammar refused ${id}, which its mask allowed`);
    if (c.terminated) return { done: true, bytes: Uint8Array.from(bytes) };
    bytes.push(...tok.tokenBytes(id));
  }
  return { done: false, bytes: Uint8Array.from(bytes) };
}

const SCHEMAS: Record<string, unknown> = {
  label: {
    type: 'object', required: ['label', 'confidence', 'tags'],
    properties: {
      label: { enum: ['positive', 'negative', 'neutral'] }, confidence: { type: 'number', minimum: 0, maximum: 1 },
      tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
    },
  },
  person: {
    type: 'object', required: ['name', 'age'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 8 }, age: { type: 'integer', minimum: 0, maximum: 120 },
      email: { type: ['string', 'null'], maxLength: 10 }, score: { type: 'integer', exclusiveMinimum: -50, exclusiveMaximum: -10 },
    },
  },
  nested: {
    $defs: { point: { type: 'object', properties: { x: { type: 'integer', minimum: -9, maximum: 9 }, y: { type: 'boolean' } }, required: ['x', 'y'] } },
    type: 'object', required: ['kind', 'at'],
    properties: { kind: { const: 'move' }, at: { $ref: '#/$defs/point' }, via: { type: 'array', items: { $ref: '#/$defs/point' }, minItems: 1, maxItems: 2 }, note: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 4 }] } },
  },
  map: { type: 'object', additionalProperties: { type: 'integer', minimum: 1, maximum: 3 } },
  rootString: { type: 'string', maxLength: 5 },
  rootRef: { $ref: '#/$defs/word', $defs: { word: { type: 'string' } } },
  freeText: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

async function walks(t: any, tok: Tokenizer, V: number, stop: number[], specs: Record<string, StructuredSpec>, check: (name: string, text: string) => void, n = 12) {
  const engine = new GrammarEngine(tok, V, stop);
  const r = rng(11);
  for (const [name, spec] of Object.entries(specs)) {
    const g = await engine.compile(spec, `walk ${name}`);
    let finished = 0;
    for (let k = 0; k < n; k++) {
      const c = await engine.constraint(g);
      const w = walk(c, tok, V, stop, r);
      c.dispose();
      if (!w.done) continue;
      finished++;
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(w.bytes);
      } catch {
        t.fail(`${name}: not UTF-8: ${Buffer.from(w.bytes).toString('hex')} (${Buffer.from(w.bytes).toString('latin1')})`);
        continue;
      }
      check(name, text);
    }
    t.true(finished >= 2, `${name}: ${finished} of ${n} walks finished`);
  }
  engine.dispose();
}

const jsonCheck = (t: any) => (name: string, text: string) => {
  const v = JSON.parse(text);
  t.true(ajv.validate(SCHEMAS[name] as object, v), `${name}: ${text} ${ajv.errorsText()}`);
  t.false(/\s/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '')), `${name}: compact, no whitespace outside strings: ${text}`);
  t.false(/[\u0000-\u001f]/.test(text), `${name}: no raw control characters: ${JSON.stringify(text)}`);
};

const jsonSpecs = Object.fromEntries(Object.entries(SCHEMAS).map(([k, schema]) => [k, { kind: 'json', schema, field: 'schema' } as StructuredSpec]));

test('GPT-2 vocabulary: every finished walk is UTF-8, compact JSON and valid under its schema', async (t) => {
  await walks(t, gpt2, 50257, [50256], jsonSpecs, jsonCheck(t));
});

test('Llama 3 and Llama 2 (SentencePiece) vocabularies: finished walks are valid JSON under the schema', async (t) => {
  const some = { label: jsonSpecs.label, nested: jsonSpecs.nested };
  const l3 = loadVariant('llama3');
  await walks(t, l3, l3.vocabSize, [...l3.eosIds], some, jsonCheck(t), 6);
  const l2 = loadVariant('llama2');
  await walks(t, l2, l2.vocabSize, [...l2.eosIds], some, jsonCheck(t), 6);
});

test('json_object, regex, choice and EBNF grammars: finished walks are what they asked for', async (t) => {
  const specs: Record<string, StructuredSpec> = {
    object: { kind: 'json_object', field: 'f' },
    regex: { kind: 'regex', pattern: '[a-z]{2,5}-[0-9]{2}(x|yz)?', field: 'f' },
    choice: { kind: 'choice', choices: ['positive', 'negative', 'say "hi"\\'], field: 'f' },
    grammar: { kind: 'grammar', ebnf: 'root ::= "(" [0-9]+ ("+" [0-9]+)* ")"', field: 'f' },
  };
  await walks(t, gpt2, 50257, [50256], specs, (name, text) => {
    if (name === 'object') t.true(typeof JSON.parse(text) === 'object' && !Array.isArray(JSON.parse(text)), text);
    if (name === 'regex') t.regex(text, /^[a-z]{2,5}-[0-9]{2}(x|yz)?$/);
    if (name === 'choice') t.true(['positive', 'negative', 'say "hi"\\'].includes(text), text);
    if (name === 'grammar') t.regex(text, /^\([0-9]+(\+[0-9]+)*\)$/);
  });
});

test('a schema, regex or grammar that cannot be compiled is a RequestError naming the field path; the engine lives on', async (t) => {
  const engine = new GrammarEngine(gpt2, 50257, [50256]);
  const bad = async (spec: StructuredSpec, path: string) => {
    const e = await t.throwsAsync(engine.compile(spec, 'request "x"'), { instanceOf: RequestError });
    t.is((e as RequestError).code, 'invalid_structured_output');
    t.true(e!.message.startsWith(`request "x": ${path}: `), e!.message);
  };
  const f = 'response_format.json_schema.schema';
  await bad({ kind: 'json', field: f, schema: { type: 'object', properties: { a: { type: 'string', pattern: '^x' } } } }, `${f}.properties.a.pattern`);
  await bad({ kind: 'json', field: f, schema: { type: 'object', properties: { n: { type: 'number', multipleOf: 2 } } } }, `${f}.properties.n.multipleOf`);
  await bad({ kind: 'json', field: f, schema: { type: 'object', properties: {}, required: ['a'] } }, `${f}.required[0]`);
  await bad({ kind: 'json', field: f, schema: { $ref: '#/$defs/nope' } }, `${f}.$ref`);
  await bad({ kind: 'json', field: f, schema: { type: 'number', minimum: 0.5 } }, `${f}.minimum`);
  await bad({ kind: 'json', field: f, schema: { type: 'integer', minimum: 5, maximum: 4 } }, `${f}.minimum`);
  await bad({ kind: 'json', field: f, schema: { type: 'strnig' } }, `${f}.type`);
  await bad({ kind: 'regex', field: 'structured_outputs.regex', pattern: '[a-' }, 'structured_outputs.regex');
  await bad({ kind: 'grammar', field: 'structured_outputs.grammar', ebnf: 'root ::= "a" |' }, 'structured_outputs.grammar');
  // the instance holding compiled grammars was never touched by the bad text: it still compiles and masks
  const g = await engine.compile({ kind: 'choice', field: 'f', choices: ['yes', 'no'] }, 'request "y"');
  const c = await engine.constraint(g);
  t.true(c.mask.some((w) => w !== 0));
  c.dispose();
  engine.dispose();
});
