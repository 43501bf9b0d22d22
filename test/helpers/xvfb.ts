// A private Xvfb for test files that need an X display (gpu.js headlessgl renders through GLX on
// Mesa). No-op when DISPLAY is set; reports why when Xvfb cannot run. Sets process.env.DISPLAY,
// which worker threads inherit. `first`/`step` spread the display numbers of concurrent files.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export async function startXvfb(first: number, step: number): Promise<{ proc: ChildProcess | null; note: string }> {
  if (process.env.DISPLAY) return { proc: null, note: `DISPLAY=${process.env.DISPLAY}` };
  if (spawnSync('sh', ['-c', 'command -v Xvfb'], { encoding: 'utf8' }).status !== 0) return { proc: null, note: 'no DISPLAY and Xvfb not installed' };
  for (let d = first + (process.pid % 400); d < 1000; d += step) {
    if (existsSync(`/tmp/.X11-unix/X${d}`) || existsSync(`/tmp/.X${d}-lock`)) continue;
    // -terminate: the server also exits once its last client (headless-gl) disconnects
    const proc = spawn('Xvfb', [`:${d}`, '-screen', '0', '64x64x24', '-nolisten', 'tcp', '-terminate'], { stdio: 'ignore' });
    process.once('exit', () => proc.kill()); // ava may end the test process without after-hooks
    for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${d}`) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (existsSync(`/tmp/.X11-unix/X${d}`)) {
      process.env.DISPLAY = `:${d}`;
      return { proc, note: `private Xvfb on :${d}` };
    }
    proc.kill();
  }
  return { proc: null, note: 'could not start Xvfb' };
}
