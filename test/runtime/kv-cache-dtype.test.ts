// kv_cache_dtype (issue #12): the KV cache in f16 halves its bytes, in q8 (int8) takes 36/128 of
// them. The option flows like dtype and quantization (flag, config key, engine option; bad values
// named with what was expected), auto picks f16 for 16-bit weights and q8 for int8 ones (f16 where
// the head width is not a multiple of 32), the memory plan holds the real bytes, and a job with an
// f16 or q8 cache gives the reference backend's greedy tokens on the shipped model, and the
// in-thread engine's bytes in every worker layout.
import test from 'ava';
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addEngineFlags, configFromFlags } from '../../src/cli/options.js';
import type { GenerateRequest } from '../../src/engine/types.js';
import { UsageError } from '../../src/errors.js';
import { engineOptions, mergeConfig, parseConfigText } from '../../src/job/config.js';
import { backendStatus } from '../../src/kernels/register-all.js';
import { chooseKvFormat, kvBytesPerToken } from '../../src/kv/kv-store.js';
import { readModelConfig } from '../../src/model/config.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import type { MemoryPlan } from '../../src/runtime/memory.js';
import { planMemory } from '../../src/runtime/memory.js';
import { DEFAULT_MODEL_DIR } from '../../src/runtime/options.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import { cli, F32, idPrompts, tmp, write } from '../job/_helpers.js';
import { ckptDir } from '../helpers/paths.js';

test('auto picks f32 for f32 weights, f16 for 16-bit ones, q8 for int8 ones (f16 off 32-channel heads); explicit values win; others are refused', (t) => {
  const c = { ...readModelConfig(`${ckptDir('f32')}/config.json`), headDim: 64 }, odd = { ...c, headDim: 80 };
  t.is(chooseKvFormat('f32'), 'f32');
  for (const w of ['bf16', 'f16'] as const) t.is(chooseKvFormat(w, 'auto', c), 'f16', w);
  t.is(chooseKvFormat('q8', 'auto', c), 'q8');
  t.is(chooseKvFormat('q8', 'auto', odd), 'f16', 'head_dim 80: no whole q8 blocks');
  t.is(chooseKvFormat('q8', 'float32'), 'f32');
  t.is(chooseKvFormat('f32', 'float16'), 'f16');
  t.is(chooseKvFormat('f32', 'int8', c), 'q8');
  t.throws(() => chooseKvFormat('f32', 'int8', odd), { instanceOf: UsageError, message: /^kv_cache_dtype int8 .* needs head_dim a multiple of 32, and this model's is 80; use float16$/ });
  t.throws(() => chooseKvFormat('f32', 'int4' as never), { instanceOf: UsageError, message: 'kv_cache_dtype must be one of auto, float32, float16, int8, got "int4"' });
});

test('the memory plan holds an f16 cache in half the bytes of an f32 one and a q8 one in 36/128, and says which', (t) => {
  const c = readModelConfig(`${ckptDir('f32')}/config.json`);
  const req = {
    weightsBytes: 1, maxSeqs: 4, maxBatchedTokens: 32, blockSize: 16, stages: [{ layerStart: 0, layerEnd: c.nLayer }],
    slots: { maxTokens: 32, maxLogitRows: 4, count: 2 }, scratch: [{ threads: 1, activations: true }],
  };
  const kv = (p: MemoryPlan) => p.parts.find(([k]) => k.startsWith('KV cache'))!;
  const f32 = planMemory(c, { ...req, kvFormat: 'f32' }), f16 = planMemory(c, { ...req, kvFormat: 'f16' });
  t.is(f16.kvTokens, f32.kvTokens);
  t.is(kv(f16)[1] * 2, kv(f32)[1]);
  t.is(kvBytesPerToken(c, 'f16') * 2, kvBytesPerToken(c, 'f32'));
  t.regex(kv(f16)[0], /bytes, f16\)$/);
  t.is(f32.totalBytes - f16.totalBytes, kv(f16)[1]);
  const q8 = planMemory(c, { ...req, kvFormat: 'q8' });
  t.is(q8.kvTokens, f32.kvTokens);
  t.is(kv(q8)[1] * 128, kv(f32)[1] * 36); // per 32 channels: 32 int8 + one f32 scale, against 32 f32
  t.regex(kv(q8)[0], /bytes, q8\)$/);
});

test('kv_cache_dtype: the config key and --kv-cache-dtype reach the engine options; a bad value names the key, the choices and the value', (t) => {
  const flags = (...argv: string[]) => configFromFlags(addEngineFlags(new Command()).parse(argv, { from: 'user' }).opts());
  t.deepEqual(flags('--kv-cache-dtype', 'float16'), { kv_cache_dtype: 'float16' });
  t.is(engineOptions(mergeConfig(parseConfigText('kv_cache_dtype: float32\n', 'j.yaml'), {})).kvCacheDtype, 'float32');
  t.is(engineOptions(mergeConfig(parseConfigText('kv_cache_dtype: float32\n', 'j.yaml'), flags('--kv-cache-dtype', 'auto'))).kvCacheDtype, 'auto');
  t.is(engineOptions(mergeConfig({}, {})).kvCacheDtype, undefined); // the engine default (auto)
  t.is(engineOptions(mergeConfig(parseConfigText('kv_cache_dtype: int8\n', 'j.yaml'), {})).kvCacheDtype, 'int8');
  t.is(t.throws(() => parseConfigText('kv_cache_dtype: int4\n', 'j.yaml'))?.message, 'j.yaml:1: kv_cache_dtype must be one of auto, float32, float16, int8, got "int4"');
});

test('the CLI: --kv-cache-dtype and the config key set the cache the summary reports; a bad value exits 2 naming it', (t) => {
  const dir = tmp('kv16'), input = write(dir, 'in.jsonl', idPrompts(2));
  const metrics = (name: string, ...args: string[]) => {
    const r = cli('run', '--model', F32, ...args, '-i', input, '-o', join(dir, `${name}.jsonl`), '--max-tokens', '3', '--metrics-json', join(dir, `${name}.json`), '--quiet');
    t.is(r.status, 0, r.stderr);
    return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { kv_cache: string; weights: string };
  };
  t.is(metrics('auto').kv_cache, 'f32'); // f32 weights
  t.is(metrics('int8', '--quantization', 'int8').kv_cache, 'f16'); // head_dim 16: no whole q8 blocks
  t.is(metrics('shipped-int8', '--model', DEFAULT_MODEL_DIR, '--quantization', 'int8').kv_cache, 'q8');
  t.is(metrics('shipped-int8-f16', '--model', DEFAULT_MODEL_DIR, '--quantization', 'int8', '--kv-cache-dtype', 'float16').kv_cache, 'f16');
  t.is(metrics('kv8', '--model', DEFAULT_MODEL_DIR, '--kv-cache-dtype', 'int8').kv_cache, 'q8');
  const odd = cli('generate', '--model', F32, '--prompt', 'x', '--kv-cache-dtype', 'int8');
  t.is(odd.status, 2);
  t.regex(odd.stderr, /^pipegpt: .*kv_cache_dtype int8 .* needs head_dim a multiple of 32, and this model's is 16; use float16\n$/);
  t.is(metrics('flag', '--kv-cache-dtype', 'float16').kv_cache, 'f16');
  t.is(metrics('file', '-c', write(dir, 'job.yaml', 'kv_cache_dtype: float16\n')).kv_cache, 'f16');
  const bad = cli('generate', '--model', F32, '--prompt', 'x', '--kv-cache-dtype', 'int4');
  t.is(bad.status, 2);
  t.is(bad.stderr, 'pipegpt: command line: kv_cache_dtype must be one of auto, float32, float16, int8, got "int4"\n');
  const badFile = cli('generate', '--model', F32, '--prompt', 'x', '-c', write(dir, 'bad.yaml', 'kv_cache_dtype: half\n'));
  t.is(badFile.status, 2);
  t.regex(badFile.stderr, /bad\.yaml:1: kv_cache_dtype must be one of auto, float32, float16, int8, got "half"/);
});

// greedy, sampled, shared prefixes (prefix cache) and n = 2 (forks copy their partial block)
const REQS: GenerateRequest[] = Array.from({ length: 6 }, (_, i) => ({
  id: `r${i}`, prompt: `${i % 2 ? 'And God said' : 'In the beginning'}, let there be light ${'and '.repeat(i)}`,
  sampling: { temperature: i < 3 ? 0 : 0.8, seed: i, max_tokens: 12, ignore_eos: true, n: i === 4 ? 2 : 1 },
}));
const tokens = (cs: Awaited<ReturnType<LocalEngine['generate']>>) => cs.map((c) => c.choices.map((x) => x.token_ids));

test('the shipped model with an f16 or q8 cache: auto picks them, greedy tokens equal the reference backend\'s, the plan holds their KV bytes', async (t) => {
  const fast = backendStatus().find((b) => b.available && b.name === 'native') ? 'native' : 'reference';
  const kvBytes = (e: LocalEngine) => e.memory.parts.find(([k]) => k.startsWith('KV cache'))![1];
  const f32 = LocalEngine.open(DEFAULT_MODEL_DIR, { backend: fast, kvCacheDtype: 'float32' });
  t.is(LocalEngine.open(DEFAULT_MODEL_DIR, { backend: fast }).memory.kvFormat, 'f16', 'auto with the F16 checkpoint');
  t.is(LocalEngine.open(DEFAULT_MODEL_DIR, { backend: fast, dtype: 'float32' }).memory.kvFormat, 'f32');
  t.is(LocalEngine.open(DEFAULT_MODEL_DIR, { backend: fast, quantization: 'int8' }).memory.kvFormat, 'q8', 'auto with int8 weights');
  const greedy = REQS.slice(0, 3), sampled = tokens(await f32.generate(REQS));
  for (const [dtype, ratio] of [['float16', 2 / 4], ['int8', 36 / 128]] as const) {
    const e = LocalEngine.open(DEFAULT_MODEL_DIR, { backend: fast, kvCacheDtype: dtype });
    t.is(e.memory.kvTokens, f32.memory.kvTokens);
    t.is(kvBytes(e), kvBytes(f32) * ratio, dtype);
    const want = tokens(await LocalEngine.open(DEFAULT_MODEL_DIR, { backend: 'reference', kvCacheDtype: dtype }).generate(greedy));
    t.deepEqual(tokens(await e.generate(greedy)), want, `${fast} vs reference, ${dtype}`);
    t.notDeepEqual(tokens(await e.generate(REQS)), sampled, `the ${dtype} cache really ran (some sampled token differs)`);
  }
});

for (const dtype of ['float16', 'int8'] as const) {
  test(`a ${dtype} cache gives the in-thread engine's bytes in every pipeline layout (prefix cache, forks, tensor-parallel, stages)`, async (t) => {
    const want = await LocalEngine.open(DEFAULT_MODEL_DIR, { kvCacheDtype: dtype }).generate(REQS);
    for (const layout of [{ tensor: 2 }, { stages: 2 }, { replicas: 2 }]) {
      const e = await PipelineEngine.create(DEFAULT_MODEL_DIR, { kvCacheDtype: dtype, ...layout });
      try {
        t.is(e.kvFormat, dtype === 'int8' ? 'q8' : 'f16');
        t.deepEqual(await e.generate(REQS), want, JSON.stringify(layout));
      } finally {
        await e.close();
      }
    }
  });
}
