// The shipped default model (models/kjv-gpt2-tiny): `pipegpt score` reproduces the validation
// perplexity the training script measured (tools/train_demo.py, torch) within 0.5%, the loss meets
// issue 2's bar, and commands without --model use it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath } from '../helpers/paths.js';

const DIR = repoPath('models/kjv-gpt2-tiny');
const BIN = repoPath('dist/src/cli/main.js');
const training = JSON.parse(readFileSync(`${DIR}/training.json`, 'utf8')) as {
  val: { file: string; mean_nll: number; perplexity: number; n_scored: number };
  val_excerpt: { file: string; mean_nll: number; perplexity: number; n_scored: number };
};

/** `pipegpt score --json` on a file of the model directory. */
function score(file: string): { mean_nll: number; perplexity: number; n_scored: number } {
  const r = spawnSync(process.execPath, [BIN, 'score', '-i', `${DIR}/${file}`, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pipegpt score ${file}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { mean_nll: number; perplexity: number; n_scored: number };
}

// The whole validation split (every 20th chapter, ~48k tokens), as the training script scored it
// with torch after the F16 round trip.
// The loss bar is checked on the number pipegpt computes here, not on the committed training record.
test('score on the validation split equals the training script within 0.5%, under 4.2 nats/token (issue 2)', (t) => {
  const out = score(training.val.file);
  t.is(out.n_scored, training.val.n_scored);
  const rel = Math.abs(out.perplexity - training.val.perplexity) / training.val.perplexity;
  t.true(rel < 0.005, `pipegpt ${out.perplexity} vs torch ${training.val.perplexity} (${(rel * 100).toFixed(3)}%)`);
  t.true(out.mean_nll < 4.2, `val mean_nll ${out.mean_nll}`);
});

test('the validation excerpt agrees with the training script as well', (t) => {
  const out = score(training.val_excerpt.file);
  t.is(out.n_scored, training.val_excerpt.n_scored);
  t.true(Math.abs(out.mean_nll - training.val_excerpt.mean_nll) < 0.005 * training.val_excerpt.mean_nll, `${out.mean_nll} vs ${training.val_excerpt.mean_nll}`);
});

test('generate without --model uses the shipped model and writes English words', (t) => {
  const r = spawnSync(process.execPath, [BIN, 'generate', '--prompt', 'And God said', '--max-tokens', '24',
    '--temperature', '0.8', '--top-k', '40', '--seed', '1', '--json'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { text: string; token_ids: number[] };
  t.is(out.token_ids.length, 24);
  const words = out.text.toLowerCase().match(/[a-z]+/g) ?? [];
  const common = new Set(['the', 'and', 'of', 'to', 'that', 'unto', 'he', 'shall', 'in', 'lord', 'his', 'i', 'a', 'for', 'is', 'them', 'they', 'be', 'him', 'not', 'with', 'all', 'thou', 'thy', 'was', 'which', 'my', 'me', 'said', 'god', 'ye', 'will', 'it', 'from', 'were', 'are', 'this', 'upon', 'as', 'by', 'their', 'hath', 'when', 'her', 'there']);
  t.true(words.filter((w) => common.has(w)).length >= 3, out.text);
});
