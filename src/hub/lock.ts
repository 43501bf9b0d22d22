// A lock file per blob, at huggingface_hub's place (<cache>/.locks/models--org--name/<etag>.lock),
// so that two pulls of the same model (two processes, or two calls in one) never write the same
// `.incomplete` file at once. Node has no flock, so the lock is an O_EXCL-created file holding the
// owner's pid and host: a lock whose owner died (kill -9 mid-download) is taken over, a live one is
// waited for. Python holds an flock on an (empty) file of the same name; an empty or foreign lock
// file is treated as stale, because filelock leaves its files behind after every download.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { HubError } from '../errors.js';

interface Owner { pid: number; host: string; token: string }

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

let counter = 0;

const inode = (path: string): number => {
  try { return statSync(path).ino; } catch { return -1; }
};

function tryCreate(path: string, me: Owner): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** The lock's owner if it is a live pipegpt process, else null (stale: dead, foreign or empty). */
function liveOwner(path: string): Owner | null {
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
  } catch {
    // being written this instant (just created, still empty) counts as live for a moment
    try { return Date.now() - statSync(path).mtimeMs < 2000 ? { pid: -1, host: '', token: '' } : null; } catch { return null; }
  }
  if (typeof owner?.pid !== 'number') return null;
  if (owner.host !== hostname()) return owner; // cannot check another machine's pids: wait
  return alive(owner.pid) ? owner : null;
}

/** Runs `fn` holding the lock file; waits (up to `timeoutMs`) while another live process holds it. */
export async function withLock<T>(path: string, repo: string, fn: () => Promise<T>, onWait?: (pid: number) => void,
  timeoutMs = 30 * 60_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const me: Owner = { pid: process.pid, host: hostname(), token: `${process.pid}-${Date.now()}-${++counter}` };
  const t0 = Date.now();
  let told = false;
  while (!tryCreate(path, me)) {
    const ino = inode(path);
    const owner = liveOwner(path);
    if (owner === null) {
      // only the file judged stale is removed: if another waiter replaced it meanwhile, its inode differs
      try { if (inode(path) === ino) unlinkSync(path); } catch { /* another waiter took it over first */ }
      continue;
    }
    if (!told) { onWait?.(owner.pid); told = true; }
    if (Date.now() - t0 > timeoutMs) throw new HubError('lock', `${repo}: another download (pid ${owner.pid}) has held ${path} for ${Math.round(timeoutMs / 1000)} s; if it is gone, delete that file`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    release(path, me);
  }
}

function release(path: string, me: Owner): void {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    if (owner.token === me.token) unlinkSync(path); // never delete a lock someone else took over
  } catch { /* already gone */ }
}
