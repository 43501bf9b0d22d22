// The engine against the independent numpy reference (tools/make_golden.py), on random
// checkpoints in every supported layout: F32; F16 with "transformer." prefix, mask buffers and a
// tied lm_head; BF16 sharded with an explicit n_inner. Tolerance: max|Δ|/max|ref| ≤ 1e-4.
import test from 'ava';
import { LocalEngine } from '../../src/engine/local-engine.js';
import { scoreTokens, sequenceLogits } from '../../src/engine/score.js';
import { assertClose } from '../helpers/assert-close.js';
import { readGolden } from '../helpers/golden.js';
import { CKPT_CASES, ckptDir } from '../helpers/paths.js';

const TOL = 1e-4;

for (const name of CKPT_CASES) {
  const g = readGolden(name);
  const engine = LocalEngine.open(ckptDir(name), { maxBatchedTokens: 7 }); // 7: prompts span several chunks

  test(`${name}: logits at every position match the numpy reference`, (t) => {
    const logits = sequenceLogits(engine, g.prompt_ids);
    t.is(logits.length, g.logits.length);
    logits.forEach((row, i) => assertClose(t, row, g.logits[i], TOL, `${name} position ${i}`));
  });

  test(`${name}: greedy continuation equals the reference token for token`, async (t) => {
    const [c] = await engine.generate([{ id: 'g', prompt_token_ids: g.greedy.prompt_ids,
      sampling: { temperature: 0, max_tokens: g.greedy.max_tokens, ignore_eos: true } }]);
    t.is(c.error, null);
    t.deepEqual(c.choices[0].token_ids, g.greedy.ids);
    t.is(c.choices[0].finish_reason, 'length');
  });

  test(`${name}: sliding-window scores match the reference`, (t) => {
    const r = scoreTokens(engine, g.score.ids, g.score.stride);
    t.is(r.n_scored, g.score.n_scored);
    t.is(r.n_scored, g.score.ids.length - 1);
    assertClose(t, r.token_logprobs, g.score.token_logprobs, TOL, `${name} token_logprobs`);
    t.true(Math.abs(r.mean_nll - g.score.mean_nll) <= 1e-4 * g.score.mean_nll);
  });
}
