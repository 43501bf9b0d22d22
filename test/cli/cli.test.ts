// The command line, run as a user would (compiled bin, real checkpoints, exit codes).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelConfig, presetName } from '../../src/model/config.js';
import { readGolden } from '../helpers/golden.js';
import { ckptDir, repoPath } from '../helpers/paths.js';

const BIN = repoPath('dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
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
  const r = run('generate', '--model', F32, '--prompt-ids', '1,2,3', '--prompt-ids', '4,5', '--max-tokens', '3', '--seed', '1', '--json');
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  t.true(lines.every((l) => l.token_ids.length === 3 || l.finish_reason === 'stop'));
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
  const dir = mkdtempSync(join(tmpdir(), 'pipegpt-score-'));
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
  const dir = mkdtempSync(join(tmpdir(), 'pipegpt-epipe-'));
  writeFileSync(join(dir, 'ids.json'), JSON.stringify(Array.from({ length: 30000 }, (_, i) => (i * 7) % 1000)));
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" score --model "${F32}" -i "${dir}/ids.json" --json | head -c 20 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  t.regex(r.stderr, /status 0\s*$/);
  t.notRegex(r.stderr, /EPIPE|Error/);
});
