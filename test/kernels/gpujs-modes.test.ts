// The gpujs backend in every gpu.js mode: the whole op set against the reference backend, and the
// tiny f32 checkpoint through the engine against the numpy golden. A mode that cannot load here is
// reported as skipped with its reason (never a silent pass), and every run asserts that the mode
// which really ran is the one requested (gpu.js can fall back silently).
// headlessgl needs an X display on Linux: when DISPLAY is unset and Xvfb is installed, this file
// starts a private Xvfb for its own process (tools/install-system-deps.sh installs it).
import test from 'ava';
import { registerAllKernels } from '../../src/kernels/register-all.js';
import { kernelSet } from '../../src/kernels/registry.js';
import type { KernelSet } from '../../src/kernels/names.js';
import { gpujsActualMode, gpujsPreferred, setGpujsMode, type GpujsMode } from '../../src/kernels/gpujs/index.js';
import { LocalEngine } from '../../src/runtime/local-engine.js';
import { sequenceLogits } from '../../src/engine/score.js';
import { resolveBackend } from '../../src/kernels/register-all.js';
import { assertClose } from '../helpers/assert-close.js';
import { startXvfb } from '../helpers/xvfb.js';
import { readGolden } from '../helpers/golden.js';
import { rand, randInt } from '../helpers/naive-ops.js';
import { ckptDir } from '../helpers/paths.js';

const xvfb = await startXvfb(90, 7); // before gpu.js loads: headless-gl reads DISPLAY when it probes
test.after.always(() => { xvfb.proc?.kill(); });

registerAllKernels();
const ref = kernelSet('reference');
const gpujs = kernelSet('gpujs');

const MODES = ['cpu', 'webasm', 'headlessgl', 'webgpu'] as const;
const loadable = new Map<string, string | null>();
for (const m of MODES) {
  try {
    setGpujsMode(m);
    loadable.set(m, null);
  } catch (e) {
    loadable.set(m, (e as Error).message + (m === 'headlessgl' ? ` [${xvfb.note}]` : ''));
  }
}
setGpujsMode('auto');

function opSet(t: import('ava').ExecutionContext, k: KernelSet, r: KernelSet): void {
  const close = (a: Float32Array, b: Float32Array, tol: number, label: string): void => assertClose(t, a, b, tol, label);
  // matmul (incl. the benchmark shape), lmHead with GPT-2's vocab, layernorm, gelu, residual
  for (const [n, I, O] of [[1, 768, 2304], [5, 33, 17], [3, 1, 1]] as const) {
    const x = rand(n * I, 1, 1), w = rand(I * O, 2, 0.2), b = rand(O, 3, 0.5), o1 = new Float32Array(n * O), o2 = new Float32Array(n * O);
    k.matmul(o1, x, w, b, n, I, O); r.matmul(o2, x, w, b, n, I, O);
    close(o1, o2, 1e-5, `matmul ${n}x${I}x${O}`);
  }
  {
    const m = 2, C = 64, V = 50257, x = rand(m * C, 4, 1), wte = rand(V * C, 5, 0.1), o1 = new Float32Array(m * V), o2 = new Float32Array(m * V);
    k.lmHead(o1, x, wte, m, C, V); r.lmHead(o2, x, wte, m, C, V);
    close(o1, o2, 1e-5, 'lmHead V=50257');
    k.logSoftmax(o1, o1, m, V); r.logSoftmax(o2, o2, m, V);
    close(o1, o2, 1e-5, 'logSoftmax V=50257 (in place)');
  }
  {
    const n = 3, C = 768, x = rand(n * C, 6, 100), w = rand(C, 7, 1), b = rand(C, 8, 1), o1 = new Float32Array(n * C), o2 = new Float32Array(n * C);
    k.layernorm(o1, x, w, b, n, C, 1e-5); r.layernorm(o2, x, w, b, n, C, 1e-5);
    close(o1, o2, 1e-4, 'layernorm');
    const y = rand(n * C, 9, 4);
    k.gelu(o1, y, n * C); r.gelu(o2, y, n * C);
    close(o1, o2, 1e-5, 'gelu');
    k.residual(o1, x, y, n * C); r.residual(o2, x, y, n * C);
    close(o1, o2, 1e-5, 'residual');
    const tokens = randInt(n, 10, 50), positions = randInt(n, 11, 20), wte = rand(50 * C, 12, 1), wpe = rand(20 * C, 13, 1);
    k.embedding(o1, tokens, positions, wte, wpe, n, C); r.embedding(o2, tokens, positions, wte, wpe, n, C);
    close(o1, o2, 1e-5, 'embedding');
  }
  {
    // kvWrite + attention over a scrambled paged cache, positions past one block, 12 heads of 64
    const C = 768, nHead = 12, bs = 16, maxB = 4, nBlocks = 9, n = 4;
    const table = Int32Array.from([7, 2, 5, -1, 0, 8, -1, -1]);
    const caches = () => [new Float32Array(nBlocks * bs * C), new Float32Array(nBlocks * bs * C)];
    const [k1, v1] = caches(), [k2, v2] = caches();
    const fill = rand(nBlocks * bs * C, 14, 1), fillV = rand(nBlocks * bs * C, 15, 1);
    k1.set(fill); k2.set(fill); v1.set(fillV); v2.set(fillV);
    const seqIds = Int32Array.from([0, 1, 0, 1]), positions = Int32Array.from([40, 17, 3, 0]);
    const slots = Int32Array.from([5 * bs + 8, 0 * bs + 1, 7 * bs + 3, 0 * bs + 0]);
    const qkv = rand(n * 3 * C, 16, 2);
    k.kvWrite(qkv, k1, v1, slots, n, C, C); r.kvWrite(qkv, k2, v2, slots, n, C, C);
    t.deepEqual(Array.from(k1), Array.from(k2), 'kvWrite k');
    t.deepEqual(Array.from(v1), Array.from(v2), 'kvWrite v');
    const args = (out: Float32Array, kc: Float32Array, vc: Float32Array) => ({ out, qkv, kCache: kc, vCache: vc, seqIds, positions,
      blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n, nHead, nKvHead: nHead, headDim: C / nHead, window: 0, scratch: new Float32Array(64) });
    const o1 = new Float32Array(n * C), o2 = new Float32Array(n * C);
    k.attention(args(o1, k1, v1)); r.attention(args(o2, k2, v2));
    close(o1, o2, 1e-5, 'attention');
  }
  llamaOps(t, k, r);
}

/** The Llama-family ops and variants: rmsnorm, swiglu, rope with q/k norm, GQA sliding-window attention, no bias / no wpe. */
function llamaOps(t: import('ava').ExecutionContext, k: KernelSet, r: KernelSet): void {
  const close = (a: Float32Array, b: Float32Array, tol: number, label: string): void => assertClose(t, a, b, tol, label);
  const n = 3, C = 896, I = 300;
  {
    const x = rand(n * C, 20, 30), w = rand(C, 21, 1), o1 = new Float32Array(n * C), o2 = new Float32Array(n * C);
    k.rmsnorm(o1, x, w, n, C, 1e-6); r.rmsnorm(o2, x, w, n, C, 1e-6);
    close(o1, o2, 1e-4, 'rmsnorm');
    const gu = rand(n * 2 * I, 22, 20), s1 = new Float32Array(n * I), s2 = new Float32Array(n * I);
    gu[0] = 1000; gu[1] = -1000;
    k.swiglu(s1, gu, n, I); r.swiglu(s2, gu, n, I);
    close(s1, s2, 1e-5, 'swiglu');
    const wm = rand(C * I, 23, 0.1), m1 = new Float32Array(n * I), m2 = new Float32Array(n * I);
    k.matmul(m1, x, wm, null, n, C, I); r.matmul(m2, x, wm, null, n, C, I);
    close(m1, m2, 1e-5, 'matmul, bias null');
    const tokens = randInt(n, 24, 50), wte = rand(50 * C, 25, 1);
    k.embedding(o1, tokens, tokens, wte, null, n, C); r.embedding(o2, tokens, tokens, wte, null, n, C);
    close(o1, o2, 0, 'embedding, wpe null');
  }
  {
    // GQA 14 query heads over 2 KV heads of 64 (Qwen2.5-0.5B), rope with q/k norm, window 5
    const NH = 14, NKV = 2, D = 64, W = (NH + 2 * NKV) * D, KV = NKV * D, bs = 16, maxB = 4, nBlocks = 9, P = 64, half = D / 2;
    const cos = new Float32Array(P * half), sin = new Float32Array(P * half);
    for (let p = 0; p < P; p++) for (let i = 0; i < half; i++) { cos[p * half + i] = Math.cos(p * 1e6 ** (-i / half)); sin[p * half + i] = Math.sin(p * 1e6 ** (-i / half)); }
    const table = Int32Array.from([7, 2, 5, -1, 0, 8, -1, -1]);
    const seqIds = Int32Array.from([0, 1, 0, 1]), positions = Int32Array.from([40, 17, 3, 0]);
    const q1 = rand(4 * W, 26, 2), q2 = q1.slice(), qn = rand(D, 27, 1), kn = rand(D, 28, 1);
    const rope = (qkv: Float32Array) => ({ qkv, positions, cos, sin, n: 4, nHead: NH, nKvHead: NKV, headDim: D, qNorm: qn, kNorm: kn, eps: 1e-6 });
    k.rope(rope(q1)); r.rope(rope(q2));
    close(q1, q2, 1e-5, 'rope with q/k norm');
    const kc = rand(nBlocks * bs * KV, 29, 1), vc = rand(nBlocks * bs * KV, 30, 1);
    const args = (out: Float32Array, window: number) => ({ out, qkv: q2, kCache: kc, vCache: vc, seqIds, positions,
      blockTable: table, maxBlocksPerSeq: maxB, blockSize: bs, n: 4, nHead: NH, nKvHead: NKV, headDim: D, window, scratch: new Float32Array(64) });
    for (const window of [0, 5]) {
      const o1 = new Float32Array(4 * NH * D), o2 = new Float32Array(4 * NH * D);
      k.attention(args(o1, window)); r.attention(args(o2, window));
      close(o1, o2, 1e-5, `GQA attention, window ${window}`);
    }
  }
}

// GPT-2, and two Llama-family cases: Qwen3 (q/k norm, head_dim 16, GQA, F16) and Mistral (sliding window, untied)
const CASES = ['f32', 'qwen3-f16', 'mistral-window'] as const;

for (const mode of MODES) {
  const why = loadable.get(mode);
  if (why) {
    test.skip(`[gpujs ${mode}] op set and f32 model (cannot load here: ${why})`, () => {});
    continue;
  }
  test.serial(`[gpujs ${mode}] the whole op set matches the reference backend`, (t) => {
    setGpujsMode(mode as GpujsMode);
    opSet(t, gpujs, ref);
    t.is(gpujsActualMode(), mode);
  });
  for (const name of CASES) test.serial(`[gpujs ${mode}] ${name} checkpoint: logits within 1e-4 of the golden, greedy ids identical`, async (t) => {
    setGpujsMode(mode as GpujsMode);
    const g = readGolden(name);
    // an f32 KV cache, as the golden's (auto would give the 16-bit checkpoints an f16 one)
    const engine = LocalEngine.open(ckptDir(name), { backend: 'gpujs', maxBatchedTokens: 7, kvCacheDtype: 'float32' });
    t.is(engine.backend, 'gpujs');
    const logits = sequenceLogits(engine, g.prompt_ids);
    t.is(logits.length, g.logits.length);
    logits.forEach((row, i) => assertClose(t, row, g.logits[i], 1e-4, `position ${i}`));
    const [c] = await engine.generate([{ id: 'g', prompt_token_ids: g.greedy.prompt_ids,
      sampling: { temperature: 0, max_tokens: g.greedy.max_tokens, ignore_eos: true } }]);
    t.is(c.error, null);
    t.deepEqual(c.choices[0].token_ids, g.greedy.ids);
    t.is(gpujsActualMode(), mode);
  });
}

test.serial('[gpujs] a mode that cannot load throws naming the mode', (t) => {
  const e = t.throws(() => setGpujsMode('webgpu'));
  t.regex(e!.message, /mode "webgpu".*(async-only|Promise)/);
  t.throws(() => setGpujsMode('nope' as GpujsMode), { message: /mode "nope" is unknown/ });
  setGpujsMode('auto');
});

test.serial('[gpujs] auto never resolves to gpujs when gpu.js runs on the CPU', (t) => {
  setGpujsMode('auto');
  const mode = gpujsActualMode();
  if (!gpujsPreferred()) {
    t.not(resolveBackend('auto'), 'gpujs', `gpujs runs in ${mode} on a non-hardware device here`);
  } else {
    t.is(mode, 'headlessgl');
  }
});
