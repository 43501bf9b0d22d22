// The hub endpoints pipegpt talks to, over the global fetch: model info at a revision (through
// @huggingface/hub's modelInfo) and HEAD/GET `resolve/<rev>/<file>`. Every non-2xx answer becomes
// a HubError naming the repo, the file and what to do; nothing here touches the disk.
import { modelInfo } from '@huggingface/hub';
import { HubError } from '../errors.js';
import { checkCommit, checkFileName, normalizeEtag } from './ids.js';

export interface HubClient { endpoint: string; repo: string; token?: string }

export interface FileMeta { commit: string; etag: string; size: number }

const USER_AGENT = 'pipegpt/0.1.0; hf_hub/js';

/** fetch with our headers; a refused connection or DNS failure becomes HubError('network'). */
export async function hubFetch(c: HubClient, url: string, init: RequestInit = {}, file?: string): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('user-agent', USER_AGENT);
  // identity: sizes and hashes are of the stored bytes, not of a gzip stream
  headers.set('accept-encoding', 'identity');
  if (c.token) headers.set('authorization', `Bearer ${c.token}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HubError('network', `${c.repo}: cannot reach the hub at ${c.endpoint} (${cause?.code ?? cause?.message ?? (e as Error).message}); ` +
      `a model already in the cache needs no network — check HF_ENDPOINT or run with HF_HUB_OFFLINE=1`);
  }
  if (res.status >= 400) throw await errorFor(c, res, file);
  return res;
}

/** Maps the hub's status and X-Error-Code to a named error (huggingface_hub's cases). */
async function errorFor(c: HubClient, res: Response, file?: string): Promise<HubError> {
  const code = res.headers.get('x-error-code') ?? '';
  const what = file ? `${c.repo}/${file}` : c.repo;
  await res.body?.cancel();
  const page = `${c.endpoint}/${c.repo}`;
  if (code === 'GatedRepo' || ((res.status === 401 || res.status === 403) && code !== 'RepositoryNotFound')) {
    const how = c.token
      ? `your token has no access yet: open ${page} while logged in, accept the licence (gated repos may wait for approval), then retry`
      : `open ${page}, accept its licence, then pass a read token with --token or set HF_TOKEN`;
    return new HubError('gated', `${what}: the hub refused access (HTTP ${res.status}); ${c.repo} is gated or private — ${how}`);
  }
  if (code === 'RepositoryNotFound' || (res.status === 401 && !file)) {
    return new HubError('not-found', `${c.repo}: no such model repo on ${c.endpoint} (HTTP ${res.status}${c.token ? '' : '; if it is private, pass --token or set HF_TOKEN'})`);
  }
  if (code === 'RevisionNotFound') return new HubError('not-found', `${c.repo}: no such revision (branch, tag or commit) on ${c.endpoint}`);
  if (code === 'EntryNotFound' || res.status === 404) return new HubError('not-found', `${what}: not found on ${c.endpoint} (HTTP ${res.status})`);
  return new HubError('http', `${what}: unexpected answer from ${c.endpoint}: HTTP ${res.status} ${res.statusText}`);
}

export function resolveUrl(c: HubClient, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${c.endpoint}/${c.repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** The commit a revision points to and the repo's file names (GET /api/models/<repo>/revision/<rev>). */
export async function repoFiles(c: HubClient, revision: string): Promise<{ commit: string; files: string[] }> {
  const info = await modelInfo({
    name: c.repo, revision, hubUrl: c.endpoint, additionalFields: ['sha', 'filePaths'],
    // our fetch adds the token and maps errors, so the package never sees a raw 401
    fetch: (url, init) => hubFetch(c, String(url), init),
  });
  const commit = checkCommit(info.sha, c.repo, `revision "${revision}"`);
  // names we never use are not checked (nor written); the ones we pick are checked again in resolve
  return { commit, files: (info.filePaths ?? []).filter((f): f is string => typeof f === 'string') };
}

/**
 * huggingface_hub's get_hf_file_metadata: HEAD without following the LFS redirect, so X-Linked-Etag
 * and X-Linked-Size (the LFS object's sha256 and size) come from the 302 itself.
 */
export async function headFile(c: HubClient, commit: string, file: string): Promise<FileMeta> {
  checkFileName(file, c.repo);
  let url = resolveUrl(c, commit, file);
  let res = await hubFetch(c, url, { method: 'HEAD', redirect: 'manual' }, file);
  // a renamed repo answers with a relative redirect to its new name: followed, as Python does
  for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.get('location')?.startsWith('/') && hops < 5; hops++) {
    url = new URL(res.headers.get('location')!, url).href;
    res = await hubFetch(c, url, { method: 'HEAD', redirect: 'manual' }, file);
  }
  const h = res.headers;
  const got = checkCommit(h.get('x-repo-commit'), c.repo, file);
  if (got !== commit) throw new HubError('hostile', `${c.repo}/${file}: asked for commit ${commit}, the hub answered ${got}; nothing was written`);
  const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'), c.repo, file);
  const size = Number(h.get('x-linked-size') ?? h.get('content-length'));
  if (!Number.isSafeInteger(size) || size < 0) throw new HubError('hostile', `${c.repo}/${file}: the hub gave no valid size (X-Linked-Size / Content-Length)`);
  return { commit, etag, size };
}
