// Structured outputs from the command line: batch lines (OpenAI completions and chat bodies,
// simple JSONL) with response_format / structured_outputs, a job-wide form in the config that a
// line's own form replaces, `generate --json-schema / --choice`, and bad input as error records
// or exit 2 naming the file or field.
import test from 'ava';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byId, cli, cliAsync, exited, records, tmp, waitForLines, write } from '../job/_helpers.js';

const ajv = new Ajv({ strict: false });
const SCHEMA = { type: 'object', required: ['who', 'n'], properties: { who: { type: 'string', maxLength: 10 }, n: { type: 'integer', minimum: 1, maximum: 12 } } };

test('a batch file of structured lines: valid JSON for every "stop", a config default, per-line errors', (t) => {
  const dir = tmp('so-job');
  const rf = { type: 'json_schema', json_schema: { name: 'x', schema: SCHEMA } };
  const lines = [
    { custom_id: 'openai-completion', method: 'POST', url: '/v1/completions', body: { prompt: 'And Jacob said', max_tokens: 40, temperature: 0, response_format: rf } },
    { custom_id: 'openai-choice', method: 'POST', url: '/v1/completions', body: { prompt: 'Is it good?', max_tokens: 5, temperature: 0, structured_outputs: { choice: ['yea', 'nay'] } } },
    { custom_id: 'openai-bad-regex', method: 'POST', url: '/v1/completions', body: { prompt: 'x', structured_outputs: { regex: '(' } } },
    { custom_id: 'openai-default', method: 'POST', url: '/v1/completions', body: { prompt: 'The sons of Levi', max_tokens: 30, temperature: 0 } },
  ];
  const input = write(dir, 'in.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  // job-wide: lines without a form of their own follow this one
  const cfg = write(dir, 'job.json', JSON.stringify({ sampling: { structured_outputs: { choice: ['Kohath', 'Gershon', 'Merari'] } } }));
  const out = join(dir, 'out.jsonl');
  const r = cli('run', '-c', cfg, '-i', input, '-o', out, '--workers', '1', '--metrics-json', join(dir, 'm.json'));
  t.is(r.status, 0, r.stderr);
  const recs = Object.fromEntries(records(out).map((x) => [x.custom_id, x]));
  const text = (id: string) => (recs[id].response!.body.choices as Array<{ text: string; finish_reason: string }>)[0];
  const c = text('openai-completion');
  if (c.finish_reason === 'stop') t.true(ajv.validate(SCHEMA, JSON.parse(c.text)), c.text);
  t.true(['yea', 'nay'].includes(text('openai-choice').text));
  t.true(['Kohath', 'Gershon', 'Merari'].includes(text('openai-default').text), text('openai-default').text);
  t.is(recs['openai-bad-regex'].error?.code, 'invalid_structured_output');
  t.regex(recs['openai-bad-regex'].error!.message, /structured_outputs\.regex/);
  const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
  t.is(m.structured_outputs.grammars_compiled, 3);
  t.true(m.structured_outputs.masks > 0);
  t.regex(r.stderr, /structured outputs: 3 grammar\(s\) compiled/);
});

test('generate --json-schema FILE and --choice; a bad schema file or form exits 2 naming it', (t) => {
  const dir = tmp('so-gen');
  const schema = write(dir, 'schema.json', JSON.stringify(SCHEMA));
  const g = cli('generate', '--prompt', 'And Jacob said', '--json-schema', schema, '--temperature', '0', '--max-tokens', '40', '--json');
  t.is(g.status, 0, g.stderr);
  const o = JSON.parse(g.stdout);
  if (o.finish_reason === 'stop') t.true(ajv.validate(SCHEMA, JSON.parse(o.text)), o.text);
  const c = cli('generate', '--prompt', 'Is it good?', '--choice', 'yea,nay', '--temperature', '0', '--json');
  t.is(c.status, 0, c.stderr);
  t.true(['yea', 'nay'].includes(JSON.parse(c.stdout).text));
  const missing = cli('generate', '--prompt', 'x', '--json-schema', join(dir, 'nope.json'));
  t.is(missing.status, 2);
  t.regex(missing.stderr, /--json-schema .*nope\.json: cannot read \(ENOENT\)/);
  t.notRegex(missing.stderr, /\n\s+at /, 'no stack trace');
  const both = cli('generate', '--prompt', 'x', '--choice', 'a', '--regex', 'b');
  t.is(both.status, 2);
  t.regex(both.stderr, /exclude each other/);
  const unsupported = write(dir, 'bad.json', JSON.stringify({ type: 'object', properties: { a: { type: 'integer', multipleOf: 3 } } }));
  const bad = cli('generate', '--prompt', 'x', '--json-schema', unsupported, '--json');
  t.is(bad.status, 2);
  t.regex(bad.stderr, /structured_outputs\.json\.properties\.a\.multipleOf: the keyword "multipleOf" is not supported/);
  const cfg = write(dir, 'bad.yaml', 'sampling:\n  response_format: {type: yaml}\n');
  const badCfg = cli('generate', '--prompt', 'x', '-c', cfg);
  t.is(badCfg.status, 2);
  t.regex(badCfg.stderr, /bad\.yaml:2: sampling\.response_format\.type: must be "json_schema", "json_object" or "text", got "yaml"/);
});

test('kill -9 mid-run, then --resume: structured records equal an uninterrupted run (matchers rebuilt from the tokens)', async (t) => {
  const dir = tmp('so-resume');
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({
    custom_id: `r${i}`, prompt: `And the ${i}th day`, max_tokens: 24, temperature: 0.9, seed: i,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: SCHEMA } },
  }));
  const input = write(dir, 'in.jsonl', lines.join('\n') + '\n');
  const ref = join(dir, 'ref.jsonl'), out = join(dir, 'out.jsonl');
  t.is(cli('run', '-i', input, '-o', ref, '--quiet').status, 0);
  const child = cliAsync('run', '-i', input, '-o', out, '--quiet', '--max-in-flight', '2', '--max-num-seqs', '2');
  const done = exited(child);
  await waitForLines(out, 3, child);
  child.kill('SIGKILL');
  t.is((await done).signal, 'SIGKILL');
  const r = cli('run', '-i', input, '-o', out, '--quiet', '--resume');
  t.is(r.status, 0, r.stderr);
  const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  t.deepEqual(sorted(byId(out)), sorted(byId(ref)));
  for (const rec of records(ref)) {
    const ch = (rec.response!.body.choices as Array<{ text: string; finish_reason: string }>)[0];
    if (ch.finish_reason === 'stop') t.true(ajv.validate(SCHEMA, JSON.parse(ch.text)), ch.text);
  }
});
