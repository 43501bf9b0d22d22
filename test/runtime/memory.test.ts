// The job memory plan (src/runtime/memory.ts): every buffer sized from the size tables and checked
// against the machine before anything is allocated; absurd sizes are refused with the numbers
// (exit 2 from the CLI), never a V8 allocation failure or a native abort.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { MemoryPlanError } from '../../src/errors.js';
import { readModelConfig } from '../../src/model/config.js';
import { planParams } from '../../src/model/param-layout.js';
import { kvBytesPerToken } from '../../src/kv/kv-store.js';
import { planMemory } from '../../src/runtime/memory.js';
import { ckptDir, repoPath } from '../helpers/paths.js';

const c = readModelConfig(`${ckptDir('f32')}/config.json`); // P = 64
const base = {
  weightsBytes: planParams(c).totalBytes, maxSeqs: 4, maxBatchedTokens: 32, blockSize: 16, kvFormat: 'f32' as const,
  stages: [{ layerStart: 0, layerEnd: c.nLayer }], slots: { maxTokens: 32, maxLogitRows: 4, count: 2 },
  scratch: [{ threads: 2, activations: true }],
};

test('the plan sizes the KV cache: default max_num_seqs full contexts, at least one, in whole blocks', (t) => {
  const p = planMemory(c, base);
  t.is(p.kvTokens, 4 * 64);
  t.is(p.maxBlocksPerSeq, 4);
  t.is(planMemory(c, { ...base, kvCacheTokens: 20 }).kvTokens, 64); // one full context even when asked for less
  t.is(planMemory(c, { ...base, kvCacheTokens: 100 }).kvTokens, 112); // rounded up to blocks of 16
  const kvPart = p.parts.find(([k]) => k.startsWith('KV cache'))!;
  t.is(kvPart[1], 256 * kvBytesPerToken(c, 'f32'));
  t.is(p.totalBytes, p.parts.reduce((a, [, b]) => a + b, 0));
});

test('sizes beyond the machine are refused before allocating, naming each part and the machine', (t) => {
  const e = t.throws(() => planMemory(c, { ...base, kvCacheTokens: 1e12 }), { instanceOf: MemoryPlanError });
  t.regex(e!.message, /^the job needs [\d.]+ GiB \(weights: .*KV cache \(1000000000000 tokens .*but this machine has [\d.]+ GiB in all/);
  t.throws(() => planMemory(c, { ...base, maxSeqs: 1e9 }), { instanceOf: MemoryPlanError, message: 'max_num_seqs must be an integer ≥ 1 and ≤ 65536, got 1000000000' });
  t.throws(() => planMemory(c, { ...base, maxBatchedTokens: 1e9, slots: { ...base.slots, maxTokens: 1e9 } }), { instanceOf: MemoryPlanError, message: /max_num_batched_tokens must be an integer ≥ 1 and ≤ 1048576/ });
  t.throws(() => planMemory(c, { ...base, maxSeqs: 60000, kvCacheTokens: 2e9 }), { instanceOf: MemoryPlanError, message: /KV cache \(2000000000 tokens/ });
  t.throws(() => planMemory(c, { ...base, kvCacheTokens: 2.5 }), { instanceOf: MemoryPlanError, message: /kv_cache_tokens must be an integer ≥ 16, got 2.5/ });
  t.true(totalmem() > 0);
});

test('the CLI answers absurd sizes with exit 2 and the plan, not a stack', (t) => {
  for (const flags of [['--kv-cache-tokens', '1000000000000'], ['--max-num-seqs', '1000000000'], ['--kv-cache-tokens', '20000000000']]) {
    const r = spawnSync(process.execPath, [repoPath('dist/src/cli/main.js'), 'generate', '--model', ckptDir('f32'), '--prompt', 'x', ...flags], { encoding: 'utf8' });
    t.is(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^pipegpt: (the job needs .* but this machine has|max_num_seqs must be an integer ≥ 1 and ≤ 65536)/, flags.join(' '));
    t.notRegex(r.stderr, /\n\s+at /); // no stack
  }
});
