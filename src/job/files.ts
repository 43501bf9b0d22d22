// What a job checks about its files before the model loads, so that a refused job has written,
// truncated or created nothing (beyond the output's directory), and the lock that keeps two runs
// (or a run and a --resume of it) from appending to the same output.
import { accessSync, closeSync, constants, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { clip, JobError } from '../errors.js';

const errno = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

function kind(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return null;
    throw e;
  }
}

/** True when a and b are the same file: same device and inode (a hard link or symlink is caught,
 *  which comparing paths misses), or the same path when neither exists yet. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const sa = statOrNull(a), sb = statOrNull(b);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** A file a job reads: it must exist and be a regular file, since a job reads its input twice
 *  (the duplicate-id scan, then the run): a pipe would be empty the second time. */
export function checkInputFile(label: string, file: string): void {
  const f = clip(file);
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    const why = errno(e) === 'ENOENT' ? 'no such file' : errno(e) === 'ENOTDIR' ? 'a parent of it is a file, not a directory' : 'cannot read';
    throw new JobError(`${label} ${f}: ${why} (${errno(e)})`, 'input_unreadable');
  }
  if (st.isDirectory()) throw new JobError(`${label} ${f} is a directory; expected a file`, 'input_unreadable');
  if (!st.isFile()) throw new JobError(`${label} ${f} is ${kind(st)}; expected a regular file (it is read twice)`, 'input_unreadable');
  try {
    accessSync(file, constants.R_OK);
  } catch (e) {
    throw new JobError(`${label} ${f}: cannot read (${errno(e)})`, 'input_unreadable');
  }
}

/** A file a job will write: an existing one must be a writable regular file; a new one needs its
 *  nearest existing ancestor to be a writable directory. Creates nothing. */
export function checkWritableFile(label: string, file: string): void {
  const f = clip(file);
  const bad = (why: string) => new JobError(`${label} ${f}: ${why}`, 'output_unwritable');
  const st = statOrNull(file);
  if (st !== null) {
    if (st.isDirectory()) throw bad('is a directory; expected a file path');
    if (!st.isFile()) throw bad(`is ${kind(st)}; expected a regular file (it is truncated, appended to and resumed)`);
    try {
      accessSync(file, constants.W_OK);
    } catch (e) {
      throw bad(`cannot write (${errno(e)})`);
    }
    return;
  }
  let dir = dirname(resolve(file));
  for (;;) {
    const d = statOrNull(dir);
    if (d !== null) {
      if (!d.isDirectory()) throw bad(`cannot be created: ${clip(dir)} is a file, not a directory`);
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw bad(`cannot be created: directory ${clip(dir)} is not writable (${errno(e)})`);
      }
      return;
    }
    if (dirname(dir) === dir) throw bad('cannot be created: no existing directory above it');
    dir = dirname(dir);
  }
}

/** Runs a write to `file`, turning an fs error into a JobError naming it. The checks before the
 *  job make this rare (permissions changed meanwhile, a disk that filled up). */
export function writing<T>(label: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
    throw new JobError(`${label} ${clip(file)}: cannot write (${code}${full ? ': disk full' : ''})`, full ? 'disk_full' : 'output_unwritable');
  }
}

/** Creates the directory an output goes in (mkdir -p), as a JobError when it cannot. */
export function makeParentDir(label: string, file: string): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
  } catch (e) {
    throw new JobError(`${label} ${clip(file)}: cannot create its directory (${errno(e)})`, 'output_unwritable');
  }
}

interface LockHolder { pid: number; host: string; started: string; token: string }

/** A holder on another host cannot be asked whether it lives; it refreshes the lock's mtime every
 *  HEARTBEAT_MS, so a lock untouched for STALE_MS is left over from a dead run (a killed pod). */
export const HEARTBEAT_MS = 10_000;
export const STALE_MS = 60_000;

/** Tokens of the locks this process holds. */
const held = new Set<string>();

/** When process `pid` started, in ms since the epoch, from Linux's /proc; null elsewhere. */
function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]); // field 22, starttime
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? (btime + ticks / 100) * 1000 : null; // USER_HZ = 100
  } catch {
    return null;
  }
}

function holderAlive(h: LockHolder | null, mtimeMs: number): boolean {
  if (h === null || h.host !== hostname()) return Date.now() - mtimeMs < STALE_MS;
  // our own pid: a lock this process holds, or one left by an earlier process that had the same
  // pid (a restarted container numbers its processes the same way)
  if (h.pid === process.pid) return held.has(h.token);
  try {
    process.kill(h.pid, 0); // signal 0: existence check only
  } catch (e) {
    if (errno(e) !== 'EPERM') return false; // EPERM: alive, owned by another user
  }
  // alive, but a process started after the lock was taken is not its holder: a reused pid
  const start = processStartMs(h.pid), taken = Date.parse(h.started);
  return start === null || !Number.isFinite(taken) || start <= taken + 5000;
}

function readHolder(file: string): LockHolder | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return Number.isInteger(v.pid) && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** `OUTPUT.lock`: created whole (written to a private file, then hard-linked into place, so no
 *  reader sees it empty) with O_EXCL semantics; holds pid, host and start time. A stale lock (its
 *  process gone, or its pid now another process's) is taken over. Released on release() and on
 *  process exit (a second SIGINT exits at once). */
export class OutputLock {
  private timer: NodeJS.Timeout | null = null;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string, private readonly token: string) {
    this.timer = setInterval(() => { try { utimesSync(file, new Date(), new Date()); } catch { /* gone: release() ran */ } }, HEARTBEAT_MS);
    this.timer.unref();
    held.add(token);
    process.on('exit', this.onExit);
  }

  static acquire(output: string): OutputLock {
    const file = `${output}.lock`;
    const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), token };
    const tmp = `${file}.${token}`;
    try {
      const fd = openSync(tmp, 'wx');
      try { writeSync(fd, JSON.stringify(holder) + '\n'); } finally { closeSync(fd); }
    } catch (e) {
      throw new JobError(`output ${clip(output)}: cannot create files in its directory ${clip(dirname(resolve(output)))} (${errno(e)})`, 'output_unwritable');
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(tmp, file); // fails with EEXIST when the lock exists: atomic, like O_EXCL
          return new OutputLock(file, token);
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw new JobError(`output ${clip(output)}: cannot create the lock ${clip(file)} (${errno(e)})`, 'output_unwritable');
        }
        const st = statOrNull(file);
        if (st === null) continue; // released meanwhile
        const other = readHolder(file);
        if (holderAlive(other, st.mtimeMs)) {
          const who = other ? `pid ${other.pid} on ${clip(other.host, 64)}, since ${clip(String(other.started), 40)}` : 'an unreadable lock';
          throw new JobError(`output ${clip(output)} is in use by another pipegpt run (${who}; lock file ${clip(file)}). ` +
            'Wait for it to end, or delete the lock file if that run no longer exists.', 'output_locked');
        }
        try { unlinkSync(file); } catch { /* another run took it over first: the next link fails */ }
      }
      throw new JobError(`output ${clip(output)}: another pipegpt run took the lock ${clip(file)} at the same moment`, 'output_locked');
    } finally {
      try { unlinkSync(tmp); } catch { /* already gone */ }
    }
  }

  /** Removes the lock if it is still ours (a stale-lock takeover by another run is left alone). */
  release(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    held.delete(this.token);
    process.off('exit', this.onExit);
    if (readHolder(this.file)?.token === this.token) {
      try { unlinkSync(this.file); } catch { /* already gone */ }
    }
  }
}
