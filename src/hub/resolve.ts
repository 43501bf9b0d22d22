// resolveModel: the one entry point. A local directory passes through; `org/name[@revision]` is
// served from the Hugging Face cache when its files are there (no request at all), else
// downloaded into that cache. HF_HUB_OFFLINE=1 never makes a request.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../errors.js';
import { RepoCache, hfHome, hubCacheDir } from './cache.js';
import { downloadBlob } from './download.js';
import { CONFIG, INDEX, SINGLE, planFiles, shardsOf } from './files.js';
import { headFile, repoFiles, type FileMeta, type HubClient } from './http.js';
import { looksLikeHubId, parseHubId, type HubId } from './ids.js';
import { withLock } from './lock.js';
import { ByteProgress, type HubProgressSink } from './progress.js';

export interface ResolveOptions {
  token?: string;                // else HF_TOKEN, else the token file `huggingface-cli login` wrote
  offline?: boolean;             // else HF_HUB_OFFLINE
  quiet?: boolean;               // no progress at all
  progress?: HubProgressSink;    // where progress goes (default: stderr)
  refresh?: boolean;             // ask the hub which commit the revision is now, even when cached (pull)
  env?: NodeJS.ProcessEnv;       // default process.env (tests pass their own HF_* settings)
}

export interface ResolvedModel { dir: string; commit: string | null; repo: string | null }

const truthy = (v: string | undefined): boolean => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** A local directory (as given), or a hub id resolved to its snapshot folder in the cache. */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  // an existing directory always wins, so `models/kjv-gpt2-tiny` is never taken for a hub id
  if (existsSync(spec) || !looksLikeHubId(spec)) return { dir: spec, commit: null, repo: null };
  const id = parseHubId(spec);
  const env = opts.env ?? process.env;
  const cache = new RepoCache(hubCacheDir(env), id.repo);
  const offline = opts.offline ?? truthy(env.HF_HUB_OFFLINE);
  if (!opts.refresh || offline) {
    const hit = cachedSnapshot(cache, id.revision);
    if (hit) return hit;
  }
  if (offline) throw offlineMiss(cache, id);
  const client: HubClient = { endpoint: (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, ''), repo: id.repo, token: tokenFor(opts, env) };
  const sink = opts.quiet ? null : (opts.progress ?? { tty: process.stderr.isTTY === true, write: (s: string) => void process.stderr.write(s) });
  return download(client, cache, id, sink);
}

function tokenFor(opts: ResolveOptions, env: NodeJS.ProcessEnv): string | undefined {
  const t = opts.token || env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (t) return t;
  try {
    return readFileSync(env.HF_TOKEN_PATH || join(hfHome(env), 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** True when the snapshot holds the weights the loader reads: model.safetensors, or the index and all its shards. */
function hasWeights(cache: RepoCache, commit: string): boolean {
  if (cache.has(commit, SINGLE)) return true;
  return cache.has(commit, INDEX) && shardsOf(cache.repo, cache.pointer(commit, INDEX)).every((s) => cache.has(commit, s));
}

function cachedSnapshot(cache: RepoCache, revision: string): ResolvedModel | null {
  const commit = cache.commitFor(revision);
  if (commit === null || !cache.has(commit, CONFIG) || !hasWeights(cache, commit)) return null;
  return { dir: cache.snapshotDir(commit), commit, repo: cache.repo };
}

function offlineMiss(cache: RepoCache, id: HubId): HubError {
  const commit = cache.commitFor(id.revision);
  const fix = `run \`pipegpt pull ${id.repo}${id.revision === 'main' ? '' : '@' + id.revision}\` with network access, or unset HF_HUB_OFFLINE`;
  if (commit === null) {
    return new HubError('offline', `${id.repo}@${id.revision}: offline mode (HF_HUB_OFFLINE) and the revision is not in the cache ${cache.root} (no refs/${id.revision}); ${fix}`);
  }
  const missing = [...(cache.has(commit, CONFIG) ? [] : [CONFIG]), ...(hasWeights(cache, commit) ? [] : [`${SINGLE} (or ${INDEX} and its shards)`])];
  return new HubError('offline', `${id.repo}@${id.revision}: offline mode (HF_HUB_OFFLINE) and snapshot ${commit} in ${cache.root} lacks ${missing.join(', ')}; ${fix}`);
}

async function download(c: HubClient, cache: RepoCache, id: HubId, sink: HubProgressSink | null): Promise<ResolvedModel> {
  const { commit, files } = await repoFiles(c, id.revision);
  const plan = planFiles(id.repo, files);
  if (plan.weights === 'sharded') await fetchFiles(c, cache, commit, [INDEX], sink); // it names the shards
  const weights = plan.weights === 'single' ? [SINGLE] : [INDEX, ...shardsOf(id.repo, cache.pointer(commit, INDEX))];
  await fetchFiles(c, cache, commit, [CONFIG, ...weights, ...plan.optional], sink);
  for (const f of plan.absent) cache.markMissing(commit, f);
  cache.writeRef(id.revision, commit);
  return { dir: cache.snapshotDir(commit), commit, repo: id.repo };
}

/** HEAD every file not yet in the snapshot, then download the blobs not yet in blobs/, one lock each. */
async function fetchFiles(c: HubClient, cache: RepoCache, commit: string, names: string[], sink: HubProgressSink | null): Promise<void> {
  const metas: { file: string; meta: FileMeta }[] = [];
  for (const file of names) if (!cache.has(commit, file)) metas.push({ file, meta: await headFile(c, commit, file) });
  const fresh = metas.filter((m) => !cache.hasBlob(m.meta.etag));
  const progress = new ByteProgress(fresh.length > 0 ? sink : null, c.repo, fresh.reduce((s, m) => s + m.meta.size, 0), fresh.length);
  for (const { file, meta } of metas) {
    if (!cache.hasBlob(meta.etag)) {
      const onWait = (pid: number) => sink?.write(`pull ${c.repo}: waiting for another download of ${file} (pid ${pid})\n`);
      await withLock(cache.lockFile(meta.etag), c.repo, async () => {
        if (!cache.hasBlob(meta.etag)) await downloadBlob(c, file, meta, cache.blob(meta.etag), progress);
        else progress.resumed(meta.size); // the pull we waited for brought it
      }, onWait);
      progress.fileDone(file);
    }
    cache.link(commit, file, meta.etag);
  }
  if (fresh.length > 0) progress.finish();
}
