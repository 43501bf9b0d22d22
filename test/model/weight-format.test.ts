// Weights held in 16 and 8 bits (src/model/weight-format.ts): 16-bit storage of a 16-bit checkpoint
// holds exactly the checkpoint's values, so logits equal the float32 path bit for bit; int8 stays
// within the quality bar of float32 (score within 1 %); every layout gives the same bytes.
import test from 'ava';
import { sequenceLogits, scoreTokens } from '../../src/engine/score.js';
import type { GenerateRequest } from '../../src/engine/types.js';
import { chooseFormat, toBf16, toF16 } from '../../src/model/weight-format.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { PipelineEngine } from '../../src/runtime/pipeline-engine.js';
import { backendStatus } from '../../src/kernels/register-all.js';
import { ckptDir, repoPath } from '../helpers/paths.js';
import { readFileSync } from 'node:fs';
import { indexCheckpoint, loadCheckpoint, quantizeRows } from '../../src/model/checkpoint.js';
import { checkpointTensors } from '../../src/model/checkpoint-names.js';
import { linearShapes } from '../../src/model/param-layout.js';
import { naiveQuantize } from '../helpers/naive-quant.js';

const CPU = backendStatus().filter((b) => b.available && b.name !== 'gpujs').map((b) => b.name);

test('the format follows --quantization, then --dtype, then the checkpoint (auto)', (t) => {
  t.is(chooseFormat({ BF16: 1 }), 'bf16');
  t.is(chooseFormat({ F16: 1 }), 'f16');
  t.is(chooseFormat({ F32: 1 }), 'f32');
  t.is(chooseFormat({ F16: 1, F32: 1 }), 'f32');
  t.is(chooseFormat({ BF16: 1 }, 'float32'), 'f32');
  t.is(chooseFormat({ F32: 1 }, 'bfloat16'), 'bf16');
  t.is(chooseFormat({ F32: 1 }, 'float16', 'int8'), 'q8');
  t.throws(() => chooseFormat({}, 'int4' as never), { message: /dtype must be one of auto, float32, bfloat16, float16, got "int4"/ });
});

test('f32 → bf16 / f16 rounding: nearest even, exact round trips, subnormals and overflow', (t) => {
  t.is(toBf16(1), 0x3f80);
  t.is(toBf16(1 + 2 ** -8), 0x3f80);           // tie → even
  t.is(toBf16(1 + 3 * 2 ** -8), 0x3f82);       // tie → even (up)
  t.is(toF16(1), 0x3c00);
  t.is(toF16(65504), 0x7bff);
  t.is(toF16(70000), 0x7c00);                  // overflow → inf
  t.is(toF16(2 ** -24), 0x0001);               // smallest subnormal
  t.is(toF16(-0.5), 0xb800);
  t.is(toF16(1 + 2 ** -11), 0x3c00);           // tie → even
});

for (const backend of CPU) {
  for (const [name, dtype] of [['qwen2-bf16-sharded', 'bfloat16'], ['qwen3-f16', 'float16'], ['f16-prefix', 'float16']] as const) {
    test(`[${backend}] ${name}: ${dtype} weights give the float32 logits bit for bit (the checkpoint's own values)`, (t) => {
      const ids = Array.from({ length: 20 }, (_, i) => (i * 37) % 400);
      // the same (f32) KV cache on both sides: auto would give the 16-bit weights an f16 cache
      const full = sequenceLogits(LocalEngine.open(ckptDir(name), { backend, dtype: 'float32', kvCacheDtype: 'float32' }), ids);
      const half = sequenceLogits(LocalEngine.open(ckptDir(name), { backend, dtype, kvCacheDtype: 'float32' }), ids);
      half.forEach((row, i) => t.deepEqual(row, full[i], `position ${i}`));
    });
  }
}

test('int8: the shipped model\'s validation excerpt scores within 1 % of float32 (perplexity)', (t) => {
  const ids = JSON.parse(readFileSync(repoPath('models/kjv-gpt2-tiny/val-excerpt.json'), 'utf8')) as number[];
  const dir = repoPath('models/kjv-gpt2-tiny');
  const f32 = scoreTokens(LocalEngine.open(dir, { dtype: 'float32', maxSeqs: 1 }), ids);
  const q8 = scoreTokens(LocalEngine.open(dir, { quantization: 'int8', maxSeqs: 1 }), ids);
  t.log(`perplexity f32 ${f32.perplexity.toFixed(4)}, int8 ${q8.perplexity.toFixed(4)}`);
  t.true(Math.abs(q8.perplexity / f32.perplexity - 1) < 0.01);
  t.not(q8.mean_nll, f32.mean_nll); // the int8 path really ran
});

test('int8: every pipeline layout gives the in-thread engine\'s bytes (GPT-2, Qwen3, untied Llama 3.2)', async (t) => {
  // GPT-2 and Qwen3 tied; Llama 3.2 untied (its q8 token table in stage 0, its q8 lm_head in the last)
  for (const [name, V] of [['f32', 1000], ['qwen3-f16', 768], ['llama32-rope-llama3', 200]] as const) {
    const reqs: GenerateRequest[] = Array.from({ length: 8 }, (_, i) => ({
      id: `r${i}`, prompt_token_ids: Array.from({ length: 2 + i * 3 }, (_, j) => (i * 31 + j * 7) % V),
      sampling: { temperature: i % 2 ? 0.8 : 0, seed: i, max_tokens: 6 + i, ignore_eos: true },
    }));
    const want = await LocalEngine.open(ckptDir(name), { quantization: 'int8' }).generate(reqs);
    for (const layout of [{ tensor: 2 }, { stages: 2, headWorkers: 2 }, { replicas: 2 }]) {
      const e = await PipelineEngine.create(ckptDir(name), { quantization: 'int8', ...layout });
      try {
        t.deepEqual(await e.generate(reqs), want, `${name} ${JSON.stringify(layout)}`);
      } finally {
        await e.close();
      }
    }
  }
});

// int8 keeps no f32 copy of the token table: the lookup and a tied head read q8 rows
const qBits = (q: Int8Array, s: Float32Array) => [Array.from(q), Array.from(new Uint32Array(s.buffer, s.byteOffset, s.length))];

test('int8: the token table (and a tied head) are q8 rows of the checkpoint\'s table; an untied lm_head its own; no f32 copy', (t) => {
  for (const name of ['f32', 'llama32-rope-llama3', 'qwen3-f16', 'qwen2-bf16-sharded']) {  // GPT-2 tied; Llama 3.2 untied; F16 and BF16 tables
    const f = loadCheckpoint(ckptDir(name)), q = loadCheckpoint(ckptDir(name), undefined, 'q8');
    const c = f.layout.config, V = c.vocabSize, C = c.nEmbd;
    if (f.wte?.kind !== 'f32' || q.wte?.kind !== 'q8' || f.head?.kind !== 'f32' || q.head?.kind !== 'q8') { t.fail(`${name}: kinds`); continue; }
    const e = naiveQuantize(f.wte.w, V, C);
    t.deepEqual(qBits(q.wte.q, q.wte.s), qBits(e.q, e.d), `${name}: embedding rows`);
    if (c.tied) t.is(q.head, q.wte, `${name}: the tied head is the same table`);
    else { const h = naiveQuantize(f.head.w, V, C); t.deepEqual(qBits(q.head.q, q.head.s), qBits(h.q, h.d), `${name}: lm_head rows`); }
    t.false(q.layout.entries.some((x) => x.name === 'wte' || x.name === 'lm_head'), `${name}: no f32 table in the layout`);
    // a chunk of 3 rows at a time (the loader's chunks are 16 MiB of the file): the same bytes
    const index = indexCheckpoint(ckptDir(name)), banded = { q: new Int8Array(V * C), s: new Float32Array(V * Math.ceil(C / 32)) };
    const target = [...checkpointTensors(c)].find(([, x]) => x.entry === 'wte')!;
    quantizeRows(index, target, banded, 3 * C * (index.tensors.get(target[0])!.info.dtype === 'F32' ? 4 : 2));
    t.deepEqual(qBits(banded.q, banded.s), qBits(e.q, e.d), `${name}: banded`);
  }
});

test('int8: every linear is the naive q8 of its f32 weight [O, I] (nn.Linear pieces quantized as read, Conv1D ones transposed)', (t) => {
  for (const name of ['f32', 'llama32-rope-llama3', 'qwen2-bf16-sharded', 'qwen3-f16']) {  // Conv1D; nn.Linear with fused q/k/v and gate/up; sharded BF16; F16
    const f = loadCheckpoint(ckptDir(name)), q = loadCheckpoint(ckptDir(name), undefined, 'q8'), shapes = linearShapes(f.layout.config);
    f.layers.forEach((fl, l) => {
      for (const key of ['qkv', 'o', 'up', 'down'] as const) {
        const a = fl[key], b = q.layers[l][key], [I, O] = shapes[key];
        if (a.kind !== 'f32' || b.kind !== 'q8') { t.fail(`${name} L${l} ${key}: kinds`); continue; }
        const rows = new Float32Array(O * I);  // [O, I] = the f32 [I, O] transposed
        for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) rows[o * I + i] = a.w[i * O + o];
        const e = naiveQuantize(rows, O, I);
        t.deepEqual(qBits(b.q, b.s), qBits(e.q, e.d), `${name} L${l} ${key}`);
      }
    });
  }
});
