// The command line, run as a user would (compiled bin, real checkpoints, exit codes).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig, presetName } from '../../src/model/config.js';
import { readGolden } from '../helpers/golden.js';
import { encode, layout, readRaw } from '../helpers/safetensors-writer.js';
import { ckptDir, repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const BIN = repoPath('dist/src/cli/main.js');
// a timeout: a command that hangs (score --stride 0 once did) fails its test instead of blocking the run
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 90_000 });
const F32 = ckptDir('f32');

test('generate --prompt-ids --json prints the greedy continuation of the reference', (t) => {
  const g = readGolden('f32');
  const r = run('generate', '--model', F32, '--prompt-ids', g.greedy.prompt_ids.join(','), '--temperature', '0',
    '--max-tokens', '10', '--ignore-eos', '--json');
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(out), ['text', 'token_ids', 'finish_reason', 'stop_reason', 'logprobs']);
  t.deepEqual(out.token_ids, g.greedy.ids.slice(0, 10));
  t.is(out.finish_reason, 'length');
  t.is(out.logprobs, null);
});

test('several prompts print one JSON object each, in order', (t) => {
  // --ignore-eos: with no stop condition left, every completion must end by length, with 3 tokens
  const r = run('generate', '--model', F32, '--prompt-ids', '1,2,3', '--prompt-ids', '4,5', '--max-tokens', '3', '--seed', '1', '--ignore-eos', '--json');
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  t.deepEqual(lines.map((l) => [l.finish_reason, l.stop_reason, l.token_ids.length]), [['length', null, 3], ['length', null, 3]]);
  // in order: greedy continuations do not depend on the batch, so each equals its prompt run alone
  const greedy = (...prompts: string[]) => {
    const g = run('generate', '--model', F32, ...prompts.flatMap((p) => ['--prompt-ids', p]), '--max-tokens', '4', '--temperature', '0', '--ignore-eos', '--json');
    t.is(g.status, 0, g.stderr);
    return g.stdout.trim().split('\n').map((l) => JSON.parse(l).token_ids as number[]);
  };
  const both = greedy('1,2,3', '4,5');
  t.deepEqual(both, [...greedy('1,2,3'), ...greedy('4,5')]);
  t.notDeepEqual(both[0], both[1]);
});

test('an invalid sampling value exits 2 naming the field and value', (t) => {
  const r = run('generate', '--model', F32, '--prompt-ids', '1,2', '--top-p', '1.5');
  t.is(r.status, 2);
  t.regex(r.stderr, /top_p must be in \(0, 1\], got 1\.5/);
});

test('a prompt longer than the context names both numbers', (t) => {
  const r = run('generate', '--model', F32, '--prompt-ids', Array.from({ length: 60 }, () => 7).join(','), '--max-tokens', '10');
  t.is(r.status, 2);
  t.regex(r.stderr, /prompt of 60 tokens \+ max_tokens 10 = 70 exceeds the model's context of 64 tokens/);
});

test('a missing model directory exits 2 naming the file', (t) => {
  const r = run('generate', '--model', '/nonexistent-model', '--prompt', 'x');
  t.is(r.status, 2);
  t.regex(r.stderr, /\/nonexistent-model\/config\.json: cannot read config\.json/);
});

test('score --json on a .json id file matches the reference scores', (t) => {
  const g = readGolden('f32');
  const dir = tempDir('score');
  writeFileSync(join(dir, 'ids.json'), JSON.stringify(g.score.ids));
  const r = run('score', '--model', F32, '-i', join(dir, 'ids.json'), '--json');
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.n_scored, g.score.ids.length - 1);
  t.true(Math.abs(out.mean_nll - g.score.mean_nll) < 1e-4 * g.score.mean_nll);
  t.true(Math.abs(out.perplexity - Math.exp(g.score.mean_nll)) < 1e-3 * out.perplexity);
  t.is(out.token_logprobs.length, out.n_scored);
});

test('inspect names the parameter count and memory', (t) => {
  const r = run('inspect', '--model', F32, '--json');
  t.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  // V·C + P·C + L·(12C² + 13C) + 2C with C = 32, V = 1000, P = 64, L = 2
  t.is(info.parameters, 1000 * 32 + 64 * 32 + 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32);
  t.is(info.preset, null);
  t.deepEqual(info.dtypes_on_disk, { F32: info.parameters * 4 });
});

test('known GPT-2 shapes get their preset name', (t) => {
  const cfg = (n_layer: number, n_head: number, n_embd: number) =>
    parseModelConfig({ n_layer, n_head, n_embd, n_positions: 1024, vocab_size: 50257 }, 'config.json');
  t.is(presetName(cfg(12, 12, 768)), 'gpt2');
  t.is(presetName(cfg(24, 16, 1024)), 'gpt2-medium');
  t.is(presetName(cfg(36, 20, 1280)), 'gpt2-large');
  t.is(presetName(cfg(48, 25, 1600)), 'gpt2-xl');
  t.is(presetName(cfg(6, 12, 768)), 'distilgpt2');
  t.is(presetName(cfg(5, 12, 768)), null);
});

test('a reader that closes the pipe early (| head) ends score quietly with status 0', (t) => {
  // 30k token log-probs (~600 kB of JSON) overflow the pipe buffer, so the write meets EPIPE
  const dir = tempDir('epipe');
  writeFileSync(join(dir, 'ids.json'), JSON.stringify(Array.from({ length: 30000 }, (_, i) => (i * 7) % 1000)));
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" score --model "${F32}" -i "${dir}/ids.json" --json | head -c 20 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  t.regex(r.stderr, /status 0\s*$/);
  t.notRegex(r.stderr, /EPIPE|Error/);
});

test('score --stride outside [1, n_positions − 1] is refused with the range; inside it every token is scored once', (t) => {
  const dir = tempDir('stride');
  const ids = join(dir, 'ids.json');
  writeFileSync(ids, JSON.stringify(Array.from({ length: 200 }, (_, i) => (i * 37) % 1000)));
  for (const stride of ['0', '-1', '64', '65', '1000']) {
    const r = run('score', '--model', F32, '-i', ids, '--stride', stride); // 0 and -1 hung at 2.3 GB; 64+ skipped tokens
    t.is(r.status, 2, `--stride ${stride}: ${r.stderr}`);
    t.is(r.stderr, `pipegpt: stride must be an integer in [1, 63] (below the window of 64 tokens, n_positions of the model), got ${stride}\n`);
  }
  const scored = (stride: string) => {
    const r = run('score', '--model', F32, '-i', ids, '--stride', stride, '--json');
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { n_scored: number; mean_nll: number };
  };
  t.is(scored('1').n_scored, 199);
  t.is(scored('63').n_scored, 199);
});

test('NaN weights: generate and score exit 2 naming the tensor and the file, instead of "!!!" and NaN', (t) => {
  const dir = tempDir('nan');
  copyFileSync(join(F32, 'config.json'), join(dir, 'config.json'));
  const st = readRaw(join(F32, 'model.safetensors'));
  const w = st.get('wte.weight')!;
  const data = Buffer.from(w.data);
  data.writeFloatLE(NaN, 4 * (10 * 32 + 2)); // wte.weight[10, 2]
  st.set('wte.weight', { ...w, data });
  const l = layout(st);
  writeFileSync(join(dir, 'model.safetensors'), encode(JSON.stringify(l.header), l.data));
  const message = `pipegpt: ${join(dir, 'model.safetensors')}: tensor "wte.weight": element [10, 2] is NaN; NaN or infinite weights make every ` +
    'output meaningless (greedy picks token 0, log-probs are NaN), so this checkpoint is refused\n';
  const g = run('generate', '--model', dir, '--prompt-ids', '1,2', '--temperature', '0');
  t.is(g.status, 2);
  t.is(g.stderr, message);
  writeFileSync(join(dir, 'ids.json'), '[1, 2, 3]');
  const s = run('score', '--model', dir, '-i', join(dir, 'ids.json'));
  t.is(s.status, 2);
  t.is(s.stderr, message);
  t.is(s.stdout, '');
});

test('bench and profile refuse a batch, prompt or output length below 1 before starting an engine', (t) => {
  const b = run('bench', '--model', F32, '--batch', '1,0');
  t.is(b.status, 2);
  t.is(b.stderr, 'pipegpt: --batch must be ≥ 1, got 1,0\n');
  t.is(b.stdout, ''); // no row of zeros
  const p = run('profile', '--model', F32, '--output-len', '0', '--report', join(tempDir('prof'), 'r.html'));
  t.is(p.status, 2);
  t.is(p.stderr, 'pipegpt: --output-len must be ≥ 1, got 0\n');
});

test('profile --report under a path whose parent is a file is refused before profiling', (t) => {
  const dir = tempDir('report');
  writeFileSync(join(dir, 'file'), 'x');
  const r = run('profile', '--model', F32, '--batch', '2', '--report', join(dir, 'file', 'r.html'));
  t.is(r.status, 2);
  t.is(r.stderr, `pipegpt: --report ${join(dir, 'file', 'r.html')}: cannot be created: ${join(dir, 'file')} is a file, not a directory\n`);
});

test('score honours --dtype and --quantization: bf16 and int8 stay within 0.2 % and 1 % of the f32 perplexity', (t) => {
  const ppl = (...flags: string[]) => {
    const r = run('score', '-i', repoPath('models/kjv-gpt2-tiny/val-excerpt.json'), '--json', ...flags);
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).perplexity as number;
  };
  const f32 = ppl('--dtype', 'float32'), bf16 = ppl('--dtype', 'bfloat16'), int8 = ppl('--quantization', 'int8');
  t.not(int8, f32, 'int8 weights change the logits (the flag reached the engine)');
  t.true(Math.abs(bf16 / f32 - 1) <= 0.002, `bf16 ${bf16} vs f32 ${f32}`);
  t.true(Math.abs(int8 / f32 - 1) <= 0.01, `int8 ${int8} vs f32 ${f32}`);
});
