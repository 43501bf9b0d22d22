// The engine's generation loop: KV-cached decoding equals recomputing the whole sequence, a
// request alone equals the same request inside a mixed batch, stop rules, per-request errors.
import test from 'ava';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { sequenceLogits } from '../../src/engine/score.js';
import type { Completion, GenerateRequest } from '../../src/engine/types.js';
import { ckptDir } from '../helpers/paths.js';

const engine = LocalEngine.open(ckptDir('f32'), { maxBatchedTokens: 32, maxSeqs: 8, kvCacheTokens: 512 });
const PROMPT = [863, 77, 385, 235, 72, 251, 322, 882];

function logSoftmaxAt(row: Float32Array, id: number): number {
  const max = Math.max(...row);
  return row[id] - max - Math.log(row.reduce((a, l) => a + Math.exp(l - max), 0));
}

test('KV-cached decoding equals recomputing the whole sequence at every step', async (t) => {
  const [c] = await engine.generate([{ id: 'kv', prompt_token_ids: PROMPT, sampling: { temperature: 0.9, seed: 3, max_tokens: 20, logprobs: 1, ignore_eos: true } }]);
  const gen = c.choices[0];
  t.is(gen.token_ids.length, 20);
  for (let k = 0; k < gen.token_ids.length; k++) {
    const seq = [...PROMPT, ...gen.token_ids.slice(0, k)];
    const rows = sequenceLogits(engine, seq); // no cache reuse: the full prefix, recomputed
    const lp = logSoftmaxAt(rows[rows.length - 1], gen.token_ids[k]);
    t.true(Math.abs(lp - gen.logprobs![k].logprob) < 1e-5, `step ${k}: cached ${gen.logprobs![k].logprob} vs recomputed ${lp}`);
  }
});

function mixedBatch(): GenerateRequest[] {
  return Array.from({ length: 16 }, (_, i) => ({
    id: `mix-${i}`,
    prompt_token_ids: Array.from({ length: 1 + ((i * 7) % 23) }, (_, j) => (i * 131 + j * 17) % 1000),
    sampling: { temperature: i % 3 === 0 ? 0 : 0.8, top_k: i % 2 ? 40 : 0, seed: i, max_tokens: 4 + (i % 9), ignore_eos: true },
  }));
}

test('a request alone equals the same request inside a batch of 16 mixed-length requests', async (t) => {
  const batch = mixedBatch();
  const together = await engine.generate(batch);
  for (const i of [0, 5, 11, 15]) {
    const [alone] = await engine.generate([batch[i]]);
    t.deepEqual(alone.choices, together[i].choices, batch[i].id);
  }
  t.deepEqual(together.map((c) => c.id), batch.map((r) => r.id));
});

test('results do not depend on the step token budget (chunked prefill)', async (t) => {
  const small = LocalEngine.open(ckptDir('f32'), { maxBatchedTokens: 3, maxSeqs: 3, kvCacheTokens: 256 });
  // num_cached_tokens left out: the shared engine may hold these prompts from earlier tests (metadata, not output)
  const outputs = (cs: Completion[]) => cs.map(({ num_cached_tokens: _, ...c }) => c);
  t.deepEqual(outputs(await small.generate(mixedBatch().slice(0, 6))), outputs(await engine.generate(mixedBatch().slice(0, 6))));
});

test('a stop string spanning two tokens is caught and cut from the text', async (t) => {
  const base = { id: 's', prompt_token_ids: PROMPT, sampling: { temperature: 0, max_tokens: 12, ignore_eos: true } };
  const [full] = await engine.generate([base]);
  const ids = full.choices[0].token_ids;
  // find a boundary k where token k's text ends and token k+1's begins with non-empty pieces
  const texts = ids.map((id) => engine.tok.decode([id]));
  const k = texts.findIndex((s, i) => i > 0 && i + 1 < texts.length && s.length > 0 && texts[i + 1].length > 0);
  t.true(k > 0);
  const before = texts.slice(0, k + 1).join('');
  const stop = texts[k].slice(-1) + texts[k + 1].slice(0, 1);
  const at = full.choices[0].text.indexOf(stop);
  const [cut] = await engine.generate([{ ...base, sampling: { ...base.sampling, stop: [stop] } }]);
  t.is(cut.choices[0].finish_reason, 'stop');
  t.is(cut.choices[0].stop_reason, stop);
  t.is(cut.choices[0].text, full.choices[0].text.slice(0, at));
  t.true(at <= before.length);
  const [kept] = await engine.generate([{ ...base, sampling: { ...base.sampling, stop: [stop], include_stop_str_in_output: true } }]);
  t.is(kept.choices[0].text, full.choices[0].text.slice(0, at + stop.length));
});

test('stop_token_ids and EOS end a sequence; ignore_eos does not', async (t) => {
  const [full] = await engine.generate([{ id: 'e', prompt_token_ids: PROMPT, sampling: { temperature: 0, max_tokens: 10, ignore_eos: true } }]);
  const target = full.choices[0].token_ids[4];
  const [byId] = await engine.generate([{ id: 'e', prompt_token_ids: PROMPT, sampling: { temperature: 0, max_tokens: 10, stop_token_ids: [target] } }]);
  const first = full.choices[0].token_ids.indexOf(target);
  t.deepEqual(byId.choices[0].token_ids, full.choices[0].token_ids.slice(0, first + 1));
  t.is(byId.choices[0].finish_reason, 'stop');
  t.is(byId.choices[0].stop_reason, target);
  t.is(full.choices[0].finish_reason, 'length');
});

test('one bad request gets its own error and the batch goes on', async (t) => {
  const out = await engine.generate([
    { id: 'ok-1', prompt_token_ids: PROMPT, sampling: { temperature: 0, max_tokens: 3 } },
    { id: 'too-long', prompt_token_ids: PROMPT, sampling: { max_tokens: 60 } },
    { id: 'bad-top-p', prompt_token_ids: PROMPT, sampling: { top_p: 7 } },
    { id: 'bad-id', prompt_token_ids: [1, 5000] },
    { id: 'ok-2', prompt_token_ids: PROMPT, sampling: { temperature: 0, max_tokens: 3 } },
  ]);
  t.is(out[1].error?.code, 'context_length_exceeded');
  t.is(out[1].error?.message, 'request "too-long": prompt of 8 tokens + max_tokens 60 = 68 exceeds the model\'s context of 64 tokens');
  t.is(out[2].error?.code, 'invalid_sampling_params');
  t.is(out[2].error?.message, 'request "bad-top-p": top_p must be in (0, 1], got 7');
  t.is(out[3].error?.code, 'invalid_prompt');
  t.is(out[3].error?.message, 'request "bad-id": prompt_token_ids[1] must be an integer in [0, 999], got 5000');
  t.is(out[0].error, null);
  t.deepEqual(out[0].choices, out[4].choices);
  t.is(out[0].choices[0].token_ids.length, 3);
});

test('n choices use independent random streams of the same request', async (t) => {
  const [c] = await engine.generate([{ id: 'n', prompt_token_ids: PROMPT, sampling: { n: 3, seed: 9, temperature: 1.5, max_tokens: 8, ignore_eos: true } }]);
  t.is(c.choices.length, 3);
  t.deepEqual(c.choices.map((x) => x.index), [0, 1, 2]);
  t.not(c.choices[0].token_ids.join(), c.choices[1].token_ids.join());
  const [again] = await engine.generate([{ id: 'n', prompt_token_ids: PROMPT, sampling: { n: 3, seed: 9, temperature: 1.5, max_tokens: 8, ignore_eos: true } }]);
  t.deepEqual(again.choices, c.choices);
});
