// Job config: strict validation with key path + file line (YAML and JSON), and precedence
// defaults < config file < command-line flags.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { JOB_DEFAULTS, loadConfigFile, MAX_CONFIG_BYTES, mergeConfig, parseConfigText } from '../../src/job/config.js';
import { cli, F32, idPrompts, tmp, write } from './_helpers.js';

const yaml = `model: m
input: in.jsonl
sampling:
  temperature: 0.5
  top_p: 1.5
`;

test('an out-of-range sampling value names file, line and key path', (t) => {
  const e = t.throws(() => parseConfigText(yaml, 'job.yaml'), { instanceOf: ConfigError });
  t.is(e?.message, 'job.yaml:5: sampling.top_p must be in (0, 1], got 1.5');
});

test('an unknown key names its line and parent', (t) => {
  const e = t.throws(() => parseConfigText('model: m\nsampling:\n  temprature: 0.5\n', 'job.yaml'), { instanceOf: ConfigError });
  t.is(e?.message, 'job.yaml:3: unknown key "temprature" in sampling');
  const top = t.throws(() => parseConfigText('model: m\n\nworker: 2\n', 'job.yaml'));
  t.is(top?.message, 'job.yaml:3: unknown key "worker"');
});

test('a wrong type names the key, what was expected and what was given', (t) => {
  t.is(t.throws(() => parseConfigText('model: m\nworkers: two\n', 'j.yaml'))?.message, 'j.yaml:2: workers must be a number, got "two"');
  t.is(t.throws(() => parseConfigText('workers: 1.5\n', 'j.yaml'))?.message, 'j.yaml:1: workers must be an integer, got 1.5');
  t.is(t.throws(() => parseConfigText('max_in_flight: 0\n', 'j.yaml'))?.message, 'j.yaml:1: max_in_flight must be ≥ 1, got 0');
  t.is(t.throws(() => parseConfigText('input_format: csv\n', 'j.yaml'))?.message, 'j.yaml:1: input_format must be one of auto, openai, jsonl, text, got "csv"');
});

test('JSON configs get line numbers too; YAML syntax errors name their line', (t) => {
  const json = '{\n  "model": "m",\n  "sampling": {\n    "max_tokens": -3\n  }\n}\n';
  t.is(t.throws(() => parseConfigText(json, 'job.json'))?.message, 'job.json:4: sampling.max_tokens must be an integer ≥ 1, got -3');
  t.regex(t.throws(() => parseConfigText('model: m\nsampling: [\n', 'bad.yaml'))?.message ?? '', /^bad\.yaml:\d+: /);
});

test('precedence: defaults < file < flags, sampling merged field by field', (t) => {
  const file = parseConfigText('workers: 2\nseed: 5\nsampling:\n  temperature: 0.5\n  max_tokens: 7\n', 'j.yaml');
  const cfg = mergeConfig(file, { workers: 3, sampling: { temperature: 0.1 } });
  t.is(cfg.workers, 3);                                   // flag over file
  t.is(cfg.seed, 5);                                      // file over default
  t.is(cfg.max_in_flight, JOB_DEFAULTS.max_in_flight);    // default
  t.deepEqual(cfg.sampling, { temperature: 0.1, max_tokens: 7 });
  t.is(t.throws(() => mergeConfig(file, { workers: 0 }))?.message, 'command line: workers must be ≥ 1, got 0');
});

test('the CLI writes the resolved config next to the output; bad config exits 2', (t) => {
  const dir = tmp('cfg');
  const input = write(dir, 'in.jsonl', idPrompts(2));
  const conf = write(dir, 'job.yaml', `model: ${F32}\ninput: ${input}\noutput: ${join(dir, 'from-file.jsonl')}\nworkers: 1\nsampling:\n  max_tokens: 2\n  temperature: 0.3\n`);
  const r = cli('run', '-c', conf, '-o', join(dir, 'out.jsonl'), '--temperature', '0', '--quiet');
  t.is(r.status, 0, r.stderr);
  const resolved = JSON.parse(readFileSync(join(dir, 'out.jsonl.config.json'), 'utf8'));
  t.is(resolved.output, join(dir, 'out.jsonl'));
  t.deepEqual(resolved.sampling, { max_tokens: 2, temperature: 0 });
  t.is(resolved.max_num_seqs, 32);
  const bad = write(dir, 'bad.yaml', 'model: x\nsampling:\n  top_p: 1.5\n');
  const b = cli('run', '-c', bad, '-i', input, '-o', join(dir, 'o2.jsonl'));
  t.is(b.status, 2);
  t.regex(b.stderr, /bad\.yaml:3: sampling\.top_p must be in \(0, 1\], got 1\.5/);
});

test('the shipped configs validate', (t) => {
  for (const f of ['default', 'gpt2-small', 'gpt2-xl']) {
    const cfg = loadConfigFile(new URL(`../../../configs/${f}.yaml`, import.meta.url).pathname);
    t.truthy(cfg.model, f);
  }
});

test('hostile config files: too big, an alias bomb, binary, a duplicate key, a huge value', (t) => {
  const dir = tmp('cfg-hostile');
  const msg = (file: string) => t.throws(() => loadConfigFile(file), { instanceOf: ConfigError })?.message;
  // 10 MB of keys took over a minute in yaml; refused from its size, before parsing
  const big = write(dir, 'big.yaml', 'k: 1\n'.repeat(2_000_000));
  t.is(msg(big), `${big}: is 10000000 bytes; a job config may be at most ${MAX_CONFIG_BYTES} bytes (256 KiB)`);
  // just under the limit, as many keys as fit (yaml's own duplicate-key check was quadratic: ~9 s here)
  const keys = Array.from({ length: 25_000 }, (_, i) => `k${i}: 1`).join('\n') + '\n';
  t.true(keys.length < MAX_CONFIG_BYTES);
  t.is(t.throws(() => parseConfigText(keys, 'many.yaml'))?.message, 'many.yaml:1: unknown key "k0"');
  const levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (const l of 'bcdefgh') levels.push(`${l}: &${l} [${Array(9).fill(`*${String.fromCharCode(l.charCodeAt(0) - 1)}`).join(', ')}]`);
  t.is(msg(write(dir, 'bomb.yaml', levels.join('\n') + '\n')), `${join(dir, 'bomb.yaml')}: YAML aliases expand too far (more than 100 alias expansions); a job config needs none`);
  const bin = Buffer.alloc(12_000);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919 + 13) % 256;
  writeFileSync(join(dir, 'bin.yaml'), bin);
  t.is(msg(join(dir, 'bin.yaml')), `${join(dir, 'bin.yaml')}: is not a text file (a NUL byte at offset ${bin.indexOf(0)}); expected YAML or JSON`);
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('model: caf\xe9\n', 'latin1'));
  t.is(msg(join(dir, 'latin1.yaml')), `${join(dir, 'latin1.yaml')}: is not UTF-8 text; expected YAML or JSON`);
  t.is(t.throws(() => parseConfigText('model: m\nsampling:\n  top_k: 3\n  seed: 1\n  top_k: 4\n', 'dup.yaml'))?.message,
    'dup.yaml:5: duplicate key "top_k" in sampling (first on line 3)');
  // a 100 kB value is echoed as its first 200 characters and the count of the rest
  t.is(t.throws(() => parseConfigText(`workers: ${'x'.repeat(100_000)}\n`, 'w.yaml'))?.message,
    `w.yaml:1: workers must be a number, got "${'x'.repeat(199)}… (99802 more bytes)`);
  t.is(msg(dir), `${dir}: is a directory; expected a YAML or JSON file`);
});

test('the CLI prints a hostile config\'s error in one short line, exit 2, no stack', (t) => {
  const dir = tmp('cfg-cli');
  const bin = Buffer.alloc(12_000);
  for (let i = 0; i < bin.length; i++) bin[i] = 1 + ((i * 7919 + 13) % 255); // no NUL: binary, yet not caught as such
  writeFileSync(join(dir, 'bin.yaml'), bin);
  const r = cli('run', '-c', join(dir, 'bin.yaml'));
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: ${join(dir, 'bin.yaml')}: is not UTF-8 text; expected YAML or JSON\n`);
  const long = 'm'.repeat(100_000); // a --model path far beyond PATH_MAX
  const g = cli('generate', '--model', long, '--prompt', 'x');
  t.is(g.status, 2);
  t.is(g.stderr, `pipegpt: ${'m'.repeat(200)}… (99812 more bytes): cannot read config.json (ENAMETOOLONG)\n`);
});
