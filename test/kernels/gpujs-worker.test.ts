// The gpujs backend inside worker_threads (test/fixtures/gpujs-worker.mjs runs a matmul there).
// cpu and webasm work in any number of workers. headless-gl's addon is not context-aware: it
// loads in ONE thread per process (the first to require it); any other thread gets "Module did
// not self-register" (stackgl/headless-gl#151), which the backend reports as a clear error naming
// the mode. This file's main thread never loads gpu.js, so the first worker can have headless-gl.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { assertClose } from '../helpers/assert-close.js';
import { startXvfb } from '../helpers/xvfb.js';
import { naive, rand } from '../helpers/naive-ops.js';
import { repoPath } from '../helpers/paths.js';

interface Reply { ok: boolean; out?: number[]; mode?: string; error?: string }

const xvfb = await startXvfb(95, 11);

const n = 3, I = 48, O = 37;
const x = rand(n * I, 71, 1), w = rand(I * O, 72, 0.2), b = rand(O, 73, 0.5);
const expected = naive.matmul(x, w, b, n, I, O);

function inWorker(mode: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const wk = new Worker(repoPath('test/fixtures/gpujs-worker.mjs'), {
      workerData: { mode, n, I, O, x: Array.from(x), w: Array.from(w), b: Array.from(b) },
    });
    wk.once('message', (m: Reply) => { resolve(m); void wk.terminate(); });
    wk.once('error', reject);
  });
}

// headlessgl first: whether it loads depends on being the first thread of the process to load gl
const first = await inWorker('headlessgl');
// ava: every test and hook is declared synchronously once the first one is, so all awaits come first
test.after.always(() => { xvfb.proc?.kill(); });
if (first.ok) {
  test('[gpujs headlessgl] matmul in a worker_thread', (t) => {
    t.is(first.mode, 'headlessgl');
    assertClose(t, first.out!, expected, 1e-5, 'matmul in worker (headlessgl)');
  });
  test.serial('[gpujs headlessgl] a second thread cannot load headless-gl and says why', async (t) => {
    const second = await inWorker('headlessgl');
    t.false(second.ok);
    t.regex(second.error!, /mode "headlessgl" cannot load: .*(self-register|one thread)/);
  });
} else {
  test.skip(`[gpujs headlessgl] matmul in a worker_thread (cannot load here: ${first.error} [${xvfb.note}])`, () => {});
}

for (const mode of ['webasm', 'cpu']) {
  test(`[gpujs ${mode}] matmul in two concurrent worker_threads`, async (t) => {
    const rs = await Promise.all([inWorker(mode), inWorker(mode)]);
    for (const r of rs) {
      t.true(r.ok, r.error);
      t.is(r.mode, mode);
      assertClose(t, r.out!, expected, 1e-5, `matmul in worker (${mode})`);
    }
  });
}
