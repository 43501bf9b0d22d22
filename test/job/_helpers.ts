// Shared by the job tests: the compiled CLI, temp dirs, small inputs for the f32 fixture
// (vocab 1000, 64 positions: prompts as token ids) and output records keyed by custom_id.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ckptDir, repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

export const BIN = repoPath('dist/src/cli/main.js');
export const F32 = ckptDir('f32');

export const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
export const cliAsync = (...args: string[]): ChildProcess => spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });

export const tmp = (tag: string): string => tempDir(tag);

/** n simple-JSONL requests with token-id prompts (f32 vocabulary). */
export function idPrompts(n: number, extra: Record<string, unknown> = {}): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `req-${i}`, prompt: [1 + (i % 50), 2 + (i % 7), 3 + (i % 11)], ...extra })).join('\n') + '\n';
}

export function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export interface Rec { id: string; custom_id: string; response: { status_code: number; body: Record<string, unknown> } | null; error: { code: string; message: string } | null }

export function records(file: string): Rec[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Rec);
}

/** Records keyed by custom_id, without the `created` timestamp (the one field that differs between runs). */
export function byId(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of records(file)) {
    if (r.response?.body && 'created' in r.response.body) delete r.response.body.created;
    m.set(r.custom_id, JSON.stringify(r));
  }
  return m;
}

/** Resolves once the file has at least `n` complete lines (polls; no fixed sleep). */
export async function waitForLines(file: string, n: number, child: ChildProcess, timeoutMs = 60000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`child exited early with ${child.exitCode}`);
    const have = existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0;
    if (have >= n) return have;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${n} lines in ${file}`);
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  // 'close', not 'exit': exit can fire before the child's stdio is drained (seen under load: an empty stderr)
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}
