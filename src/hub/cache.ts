// The Hugging Face cache layout, as huggingface_hub (Python) writes it, so either side reuses the
// other's files:
//   <cache>/models--org--name/refs/<revision>            the commit (40 hex, no newline)
//   <cache>/models--org--name/blobs/<etag>               file contents, named by sha1/sha256
//   <cache>/models--org--name/snapshots/<commit>/<file>  relative symlink ../../blobs/<etag>
//   <cache>/models--org--name/.no_exist/<commit>/<file>  empty: the file is known not to exist
//   <cache>/.locks/models--org--name/<etag>.lock
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';
import { COMMIT_RE, inside } from './ids.js';

const tmpTag = (): string => `${process.pid}.${randomBytes(4).toString('hex')}`;
const expandHome = (p: string): string => (p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p);

/** HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE (legacy), else HF_HOME/hub, else XDG_CACHE_HOME or ~/.cache /huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const direct = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (direct) return expandHome(direct);
  return join(hfHome(env), 'hub');
}

export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface'));
}

/** One repo's folder and the paths in it; every path built from hub data is containment-checked. */
export class RepoCache {
  readonly folder: string;
  readonly locks: string;

  constructor(readonly root: string, readonly repo: string) {
    const name = getRepoFolderName({ type: 'model', name: repo });
    this.folder = inside(root, join(root, name), repo);
    this.locks = inside(root, join(root, '.locks', name), repo);
  }

  private at(...parts: string[]): string {
    return inside(this.folder, join(this.folder, ...parts), this.repo);
  }

  blob(etag: string): string { return this.at('blobs', etag); }
  snapshotDir(commit: string): string { return this.at('snapshots', commit); }
  pointer(commit: string, file: string): string { return this.at('snapshots', commit, file); }
  lockFile(etag: string): string { return inside(this.locks, join(this.locks, `${etag}.lock`), this.repo); }

  /** The commit a revision points to in the cache: itself if it is a commit id, else refs/<revision>. */
  commitFor(revision: string): string | null {
    if (COMMIT_RE.test(revision)) return revision;
    try {
      const c = readFileSync(this.at('refs', revision), 'utf8').trim();
      return COMMIT_RE.test(c) ? c : null;
    } catch {
      return null;
    }
  }

  /** refs/<revision> ← commit, through a temporary file and a rename (readers never see half a ref). */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const ref = this.at('refs', revision);
    if (existsSync(ref) && readFileSync(ref, 'utf8') === commit) return;
    mkdirSync(dirname(ref), { recursive: true });
    const tmp = `${ref}.${tmpTag()}.tmp`;
    writeFileSync(tmp, commit);
    renameSync(tmp, ref);
  }

  /** True when snapshots/<commit>/<file> leads to an existing blob (a dangling link does not count). */
  has(commit: string, file: string): boolean {
    try {
      return statSync(this.pointer(commit, file)).isFile();
    } catch {
      return false;
    }
  }

  hasBlob(etag: string): boolean {
    return existsSync(this.blob(etag));
  }

  /** snapshots/<commit>/<file> → ../../blobs/<etag> (relative, as Python's _create_symlink makes it). */
  link(commit: string, file: string, etag: string): void {
    const ptr = this.pointer(commit, file), blob = this.blob(etag);
    mkdirSync(dirname(ptr), { recursive: true });
    // made aside and renamed over: a concurrent pull linking the same file never sees it missing
    const tmp = `${ptr}.${tmpTag()}.tmp`;
    symlinkSync(relative(dirname(ptr), blob), tmp);
    renameSync(tmp, ptr);
  }

  /** .no_exist/<commit>/<file>: lets offline runs tell "absent upstream" from "not downloaded". */
  markMissing(commit: string, file: string): void {
    const p = this.at('.no_exist', commit, file);
    if (existsSync(p)) return;
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, '');
  }

  knownMissing(commit: string, file: string): boolean {
    return existsSync(this.at('.no_exist', commit, file));
  }
}
