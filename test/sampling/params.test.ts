// Invalid sampling values are rejected with the field, the allowed range and the value given.
import test from 'ava';
import { SamplingParamError } from '../../src/errors.js';
import { DEFAULT_SAMPLING, resolveSamplingParams } from '../../src/sampling/params.js';

test('defaults are vLLM\'s', (t) => {
  const p = resolveSamplingParams({});
  t.is(p.max_tokens, 16); t.is(p.temperature, 1); t.is(p.top_k, 0); t.is(p.top_p, 1);
  t.is(p.repetition_penalty, 1); t.is(p.n, 1); t.is(p.logprobs, null); t.deepEqual(p.stop, []);
  t.deepEqual(p, { ...DEFAULT_SAMPLING });
});

const BAD: Array<[Record<string, unknown>, string]> = [
  [{ top_p: 1.5 }, 'top_p must be in (0, 1], got 1.5'],
  [{ top_p: 0 }, 'top_p must be in (0, 1], got 0'],
  [{ temperature: -1 }, 'temperature must be in [0, 2], got -1'],
  [{ temperature: 'hot' }, 'temperature must be in [0, 2], got "hot"'],
  [{ top_k: -2 }, 'top_k must be 0 or -1 (disable), or at least 1, got -2'],
  [{ max_tokens: 0 }, 'max_tokens must be an integer ≥ 1, got 0'],
  [{ max_tokens: 2.5 }, 'max_tokens must be an integer ≥ 1, got 2.5'],
  [{ min_p: 2 }, 'min_p must be in [0, 1], got 2'],
  [{ repetition_penalty: 0 }, 'repetition_penalty must be greater than zero, got 0'],
  [{ presence_penalty: 3 }, 'presence_penalty must be in [-2, 2], got 3'],
  [{ frequency_penalty: -2.5 }, 'frequency_penalty must be in [-2, 2], got -2.5'],
  [{ stop: ['a', ''] }, 'stop cannot contain an empty string, got ["a",""]'],
  [{ stop: 5 }, 'stop must be a string or a list of strings, got 5'],
  [{ stop_token_ids: [1, 99999] }, 'stop_token_ids must be a list of token ids in [0, 50256], got [1,99999]'],
  [{ logprobs: 21 }, 'logprobs must be an integer in [0, 20], got 21'],
  [{ n: 0 }, 'n must be an integer in [1, 128], got 0'],
  [{ n: 2, temperature: 0 }, 'n must be 1 when using greedy sampling (temperature 0), got 2'],
  [{ ignore_eos: 'yes' }, 'ignore_eos must be true or false, got "yes"'],
  [{ seed: 1.5 }, 'seed must be an integer, got 1.5'],
  [{ temprature: 1 }, 'temprature is not a sampling parameter'],
];

for (const [raw, msg] of BAD) {
  test(`rejects ${JSON.stringify(raw)}`, (t) => {
    const e = t.throws(() => resolveSamplingParams(raw), { instanceOf: SamplingParamError });
    t.true(e!.message.startsWith(msg), e!.message);
  });
}

test('a single stop string becomes a list', (t) => {
  t.deepEqual(resolveSamplingParams({ stop: 'END' }).stop, ['END']);
});
