// Validation of everything that comes from the user or the hub and ends up in a path: repo ids,
// revisions, file names, commit ids and ETags. Each is checked BEFORE it is joined onto the cache
// folder, and every final path is checked again with path.resolve (`inside`), so a hostile hub
// answering `../../x` as a commit or file name cannot make us write outside the model's folder.
import { resolve, sep } from 'node:path';
import { HubError } from '../errors.js';

export interface HubId { repo: string; revision: string }

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const COMMIT_RE = /^[0-9a-f]{40}$/;
const ETAG_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** True when `spec` has the shape of a hub id (`org/name` or `org/name@rev`); says nothing of existence. */
export function looksLikeHubId(spec: string): boolean {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const parts = repo.split('/');
  return parts.length === 2 && parts.every((p) => REPO_PART.test(p));
}

/** `org/name[@revision]` → its parts, validated as huggingface_hub does (≤96 chars, no `--` or `..`). */
export function parseHubId(spec: string): HubId {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = repo.split('/');
  const ok = repo.length <= 96 && parts.length === 2 && parts.every((p) => REPO_PART.test(p)) &&
    !repo.includes('--') && !repo.includes('..') && !/[.-]$/.test(repo);
  if (!ok) throw new HubError('bad-id', `"${spec}" is not a hub model id: expected org/name[@revision] (letters, digits, - _ . ; at most 96 characters; no "--" or "..")`);
  checkRevision(revision, spec);
  return { repo, revision };
}

/** A branch, tag or commit: becomes refs/<revision>, so no empty, absolute or `..` segments. */
export function checkRevision(revision: string, where: string): void {
  const segs = revision.split('/');
  const ok = revision.length > 0 && revision.length <= 256 && /^[A-Za-z0-9._/-]+$/.test(revision) &&
    segs.every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) throw new HubError('bad-id', `${where}: revision "${revision}" is not a branch, tag or commit name`);
}

/** A repo file name: a relative POSIX path with no `..`, `.` or empty segment (and no backslash). */
export function checkFileName(name: string, repo: string): string {
  const segs = name.split('/');
  const ok = name.length > 0 && name.length <= 1024 && !name.includes('\\') && !name.includes('\0') &&
    !/^[A-Za-z]:/.test(name) && segs.every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) throw new HubError('hostile', `${repo}: the hub listed the file name "${name}", which is not a safe relative path; nothing was written`);
  return name;
}

/** X-Repo-Commit / model info `sha`: exactly 40 lowercase hex digits. */
export function checkCommit(commit: unknown, repo: string, what: string): string {
  if (typeof commit !== 'string' || !COMMIT_RE.test(commit)) {
    throw new HubError('hostile', `${repo}: the hub answered ${JSON.stringify(commit)} as the commit id of ${what}; expected 40 hex digits, nothing was written`);
  }
  return commit;
}

/** Strips `W/` and quotes as huggingface_hub does, then requires a sha1 or sha256 hex digest. */
export function normalizeEtag(raw: string | null, repo: string, file: string): string {
  const etag = (raw ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
  if (!ETAG_RE.test(etag)) {
    throw new HubError('hostile', `${repo}: the hub answered ${JSON.stringify(raw)} as the ETag of ${file}; expected a sha1 or sha256 hex digest, nothing was written`);
  }
  return etag;
}

/** `path` resolved, after checking it lies inside `root` (or is root itself). */
export function inside(root: string, path: string, repo: string): string {
  const r = resolve(root), p = resolve(path);
  if (p !== r && !p.startsWith(r + sep)) throw new HubError('hostile', `${repo}: refusing to write ${p}, which is outside the model's cache folder ${r}`);
  return p;
}
