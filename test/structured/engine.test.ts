// Structured outputs through the engine, on the shipped (trained) GPT-2-tiny model: every output
// that ends with "stop" is valid (ajv for schemas, the regex, the choice list); greedy picks the
// best token the grammar allows (checked against logits recomputed without the cache, masked by a
// separate matcher); log-probs are those of the masked distribution; a bad schema is that
// request's error; outputs are byte-identical across worker layouts, prefix caching and n forks.
import test from 'ava';
import { Ajv } from 'ajv';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import { DEFAULT_MODEL_DIR } from '../../src/runtime/options.js';
import { sequenceLogits } from '../../src/engine/score.js';
import { GrammarEngine } from '../../src/structured/grammars.js';
import type { Completion, GenerateRequest } from '../../src/engine/types.js';

const ajv = new Ajv({ strict: false });
const engine = LocalEngine.open(DEFAULT_MODEL_DIR, { maxSeqs: 16, kvCacheTokens: 4096 });
const EOS = 50256;

const PERSON = {
  type: 'object', required: ['name', 'age', 'tribe'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 12 }, age: { type: 'integer', minimum: 1, maximum: 120 }, tribe: { enum: ['Judah', 'Levi', 'Dan'] }, sons: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 2 } },
};
const LABEL = { type: 'object', required: ['label', 'score'], properties: { label: { enum: ['blessing', 'curse'] }, score: { type: 'number', minimum: 0, maximum: 1 } } };

function requests(): GenerateRequest[] {
  const rf = (schema: object) => ({ type: 'json_schema', json_schema: { name: 'out', schema, strict: true } });
  const out: GenerateRequest[] = [];
  for (let i = 0; i < 6; i++) {
    out.push({ id: `person-${i}`, prompt: `And the man of God said unto ${['Moses', 'Aaron', 'David'][i % 3]},`, sampling: { max_tokens: 60, temperature: i < 2 ? 0 : 0.9, seed: i, response_format: rf(PERSON) } });
  }
  out.push({ id: 'label-n3', prompt: 'The word of the LORD came', sampling: { max_tokens: 40, temperature: 1, seed: 5, n: 3, logprobs: 2, structured_outputs: { json: LABEL } } });
  out.push({ id: 'object', prompt: 'In the beginning', sampling: { max_tokens: 50, temperature: 0.7, seed: 9, response_format: { type: 'json_object' } } });
  out.push({ id: 'choice', prompt: 'And he said, Is it', sampling: { max_tokens: 8, temperature: 0, structured_outputs: { choice: ['good', 'evil', 'very good'] } } });
  out.push({ id: 'regex', prompt: 'The number of the tribe', sampling: { max_tokens: 12, temperature: 0.8, seed: 2, structured_outputs: { regex: '[A-Z][a-z]{2,7} [0-9]{1,3}' } } });
  out.push({ id: 'short', prompt: 'And God said', sampling: { max_tokens: 3, temperature: 0, response_format: rf(PERSON) } });
  out.push({ id: 'bad-schema', prompt: 'x', sampling: { response_format: rf({ type: 'object', properties: { a: { type: 'string', format: 'email', pattern: '@' } } }) } });
  out.push({ id: 'bad-form', prompt: 'x', sampling: { response_format: { type: 'xml' } } });
  out.push({ id: 'plain', prompt: 'And God said', sampling: { max_tokens: 8, temperature: 0 } });
  return out;
}

const tokensOf = (cs: Completion[]) => cs.map((c) => ({ id: c.id, error: c.error?.code ?? null, choices: c.choices.map((ch) => [ch.token_ids, ch.finish_reason, ch.text]) }));
let base: Promise<Completion[]> | null = null;
const baseline = () => (base ??= engine.generate(requests()));

test('every output that ends with "stop" is valid; max_tokens cuts give "length"; bad forms are per-request errors', async (t) => {
  const out = await baseline();
  const by = Object.fromEntries(out.map((c) => [c.id, c]));
  let stops = 0;
  for (const c of out.filter((c) => c.id.startsWith('person') || c.id === 'label-n3' || c.id === 'object')) {
    t.is(c.error, null, c.id);
    for (const ch of c.choices) {
      if (ch.finish_reason !== 'stop') continue;
      stops++;
      const v = JSON.parse(ch.text);
      if (c.id !== 'object') t.true(ajv.validate(c.id === 'label-n3' ? LABEL : PERSON, v), `${c.id}: ${ch.text} ${ajv.errorsText()}`);
      else t.true(v !== null && typeof v === 'object' && !Array.isArray(v), ch.text);
      t.is(ch.stop_reason, null, `${c.id}: ended by the grammar taking EOS (stop_reason null, as vLLM gives for EOS)`);
      t.false(ch.token_ids.slice(0, -1).includes(EOS));
      t.is(ch.token_ids[ch.token_ids.length - 1], EOS);
    }
  }
  t.true(stops >= 6, `${stops} outputs ended with stop`);
  t.is(by.short.choices[0].finish_reason, 'length');
  t.is(by.short.choices[0].token_ids.length, 3);
  t.true(['good', 'evil', 'very good'].includes(by.choice.choices[0].text), by.choice.choices[0].text);
  if (by.regex.choices[0].finish_reason === 'stop') t.regex(by.regex.choices[0].text, /^[A-Z][a-z]{2,7} [0-9]{1,3}$/);
  t.is(by['bad-schema'].error?.code, 'invalid_structured_output');
  t.regex(by['bad-schema'].error!.message, /response_format\.json_schema\.schema\.properties\.a\.pattern/);
  t.is(by['bad-form'].error?.code, 'invalid_structured_output');
  t.regex(by['bad-form'].error!.message, /response_format\.type: must be "json_schema", "json_object" or "text", got "xml"/);
  t.is(by.plain.error, null);
  t.is(by.plain.choices[0].token_ids.length, 8);
});

test('greedy under a grammar is the best allowed token of freshly recomputed logits; log-probs are over the allowed tokens', async (t) => {
  const out = await baseline();
  const g = new GrammarEngine(engine.tok, 50257, [EOS]);
  const check = async (c: Completion, schema: object, k: number, greedy: boolean) => {
    const m = await g.constraint(await g.compile({ kind: 'json', schema, field: 'f' }, 'test'));
    const ch = c.choices[k];
    for (let i = 0; i < ch.token_ids.length; i++) {
      const rows = sequenceLogits(engine, [...c.prompt_token_ids, ...ch.token_ids.slice(0, i)]);
      const row = rows[rows.length - 1];
      const allowed = (id: number) => ((m.mask[id >> 5] >>> (id & 31)) & 1) === 1;
      let best = -1;
      for (let id = 0; id < 50257; id++) if (allowed(id) && (best < 0 || row[id] > row[best])) best = id;
      const id = ch.token_ids[i];
      t.true(allowed(id), `${c.id} step ${i}: token ${id} is allowed`);
      if (greedy) t.true(row[id] >= row[best] - 1e-4, `${c.id} step ${i}: ${id} (${row[id]}) vs best allowed ${best} (${row[best]})`);
      if (ch.logprobs) {
        let max = -Infinity, z = 0;
        for (let j = 0; j < 50257; j++) if (allowed(j) && row[j] > max) max = row[j];
        for (let j = 0; j < 50257; j++) if (allowed(j)) z += Math.exp(row[j] - max);
        const want = row[id] - max - Math.log(z);
        t.true(Math.abs(ch.logprobs[i].logprob - want) < 1e-4, `${c.id} step ${i}: logprob ${ch.logprobs[i].logprob} vs masked ${want}`);
        for (const top of ch.logprobs[i].top_logprobs) t.true(allowed(top.token_id), 'top log-probs only name allowed tokens');
      }
      m.accept(id);
    }
    m.dispose();
  };
  const by = Object.fromEntries(out.map((c) => [c.id, c]));
  await check(by['person-0'], PERSON, 0, true);
  await check(by['label-n3'], LABEL, 1, false);
  g.dispose();
});

test('outputs are byte-identical with prefix caching off, without n forks, and on 2 replicas / 2 stages', async (t) => {
  const want = tokensOf(await baseline());
  const noCache = LocalEngine.open(DEFAULT_MODEL_DIR, { maxSeqs: 16, kvCacheTokens: 4096, enablePrefixCaching: false, forkChoices: false });
  t.deepEqual(tokensOf(await noCache.generate(requests())), want, 'no prefix cache, no forks');
  for (const layout of [{ replicas: 2 }, { stages: 2 }]) {
    const p = await PipelineEngine.create(DEFAULT_MODEL_DIR, { ...layout, maxSeqs: 16, kvCacheTokens: 4096, backend: 'native' });
    try {
      t.deepEqual(tokensOf(await p.generate(requests())), want, JSON.stringify(layout));
      t.true(p.stats.structured!.compiled >= 5 && p.stats.structured!.masks > 0, 'compiles and masks are counted');
    } finally {
      await p.close();
    }
  }
});

test('a tokenizer.json model (the Qwen3 fixture with its ChatML template): chat requests under a schema end valid', async (t) => {
  const { ckptDir } = await import('../helpers/paths.js');
  const qwen = LocalEngine.open(ckptDir('qwen3-f16'), { maxSeqs: 8, kvCacheTokens: 2048 });
  // short keys: the fixture's tokenizer has a small vocabulary (about a token per character) and a 64-token context
  const schema = { type: 'object', required: ['o', 'n', 'k'], properties: { o: { type: 'boolean' }, n: { type: 'integer', minimum: -3, maximum: 3 }, k: { enum: ['a', 'bb', 'c c'] } } };
  const reqs: GenerateRequest[] = Array.from({ length: 6 }, (_, i) => ({
    id: `q${i}`, messages: [{ role: 'user', content: `item ${i}` }],
    sampling: { max_tokens: 34, temperature: i === 0 ? 0 : 1, seed: i, response_format: { type: 'json_schema', json_schema: { name: 'q', schema } } },
  }));
  const out = await qwen.generate(reqs);
  for (const c of out) {
    t.is(c.error, null, c.id);
    const ch = c.choices[0];
    t.is(ch.finish_reason, 'stop', `${c.id}: ${ch.text}`);
    t.true(ajv.validate(schema, JSON.parse(ch.text)), `${c.id}: ${ch.text} ${ajv.errorsText()}`);
  }
});
