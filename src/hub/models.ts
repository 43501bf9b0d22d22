// `pipegpt models`: the models in the Hugging Face cache (ours and Python's alike), with their
// size on disk and the revisions (refs) that point at each snapshot.
import { existsSync } from 'node:fs';
import { scanCacheDir } from '@huggingface/hub';
import { hubCacheDir } from './cache.js';

export interface CachedModel { repo: string; size: number; path: string; revisions: { commit: string; refs: string[]; files: number }[] }

export async function listCachedModels(env: NodeJS.ProcessEnv = process.env): Promise<{ root: string; models: CachedModel[]; warnings: string[] }> {
  const root = hubCacheDir(env);
  if (!existsSync(root)) return { root, models: [], warnings: [] };
  const info = await scanCacheDir(root);
  const models = info.repos
    .filter((r) => r.id.type === 'model')
    .map((r) => ({
      repo: r.id.name, size: r.size, path: r.path,
      revisions: r.revisions.map((v) => ({ commit: v.commitOid, refs: v.refs, files: v.files.length })),
    }))
    .sort((a, b) => a.repo.localeCompare(b.repo));
  return { root, models, warnings: info.warnings.map((w) => w.message) };
}
