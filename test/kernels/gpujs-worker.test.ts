// The gpujs backend inside worker_threads (test/fixtures/gpujs-worker.mjs runs a matmul there).
// cpu and webasm work in any number of workers. headless-gl's addon is not context-aware: it
// loads in ONE thread per process (the first to require it); any other thread gets "Module did
// not self-register" (stackgl/headless-gl#151), which the backend reports as a clear error naming
// the mode. This file's main thread never loads gpu.js, so the first worker can have headless-gl.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { assertClose } from '../helpers/assert-close.js';
import { naive, rand } from '../helpers/naive-ops.js';
import { repoPath } from '../helpers/paths.js';

interface Reply { ok: boolean; out?: number[]; mode?: string; error?: string }

async function startXvfb(): Promise<{ proc: ChildProcess | null; note: string }> {
  if (process.env.DISPLAY) return { proc: null, note: `DISPLAY=${process.env.DISPLAY}` };
  if (spawnSync('sh', ['-c', 'command -v Xvfb'], { encoding: 'utf8' }).status !== 0) return { proc: null, note: 'no DISPLAY and Xvfb not installed' };
  for (let d = 95 + (process.pid % 400); d < 1000; d += 11) {
    if (existsSync(`/tmp/.X11-unix/X${d}`) || existsSync(`/tmp/.X${d}-lock`)) continue;
    // -terminate: the server also exits once its last client (headless-gl) disconnects
    const proc = spawn('Xvfb', [`:${d}`, '-screen', '0', '64x64x24', '-nolisten', 'tcp', '-terminate'], { stdio: 'ignore' });
    process.once('exit', () => proc.kill()); // ava may end the test process without after-hooks
    for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${d}`) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (existsSync(`/tmp/.X11-unix/X${d}`)) {
      process.env.DISPLAY = `:${d}`; // workers inherit process.env
      return { proc, note: `private Xvfb on :${d}` };
    }
    proc.kill();
  }
  return { proc: null, note: 'could not start Xvfb' };
}

const xvfb = await startXvfb();

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
