// Shared by the hub tests: a started TestHub serving a random test checkpoint, a temp HF cache
// (never the real one), the env that points the client at both, and a listing of a cache tree.
import { existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ckptDir } from '../helpers/paths.js';
import { repoFromDir, TestHub, type HubRepo } from '../helpers/hub-server.js';
import { tempDir } from '../helpers/temp.js';

export const REPO = 'test-org/tiny-gpt2';
export const FOLDER = 'models--test-org--tiny-gpt2';

export interface Setup { hub: TestHub; root: string; cache: string; env: NodeJS.ProcessEnv }

/** A hub serving `repos` and an empty cache under a fresh temp root (the root holds only the cache). */
export async function setup(repos: Record<string, HubRepo> = { [REPO]: repoFromDir(ckptDir('f32')) }): Promise<Setup> {
  const hub = await new TestHub().start();
  for (const [name, r] of Object.entries(repos)) hub.repos.set(name, r);
  const root = tempDir('hub');
  const cache = join(root, 'cache');
  // HF_HOME too, so no test ever reads the real ~/.cache/huggingface/token
  const env = { HF_HUB_CACHE: cache, HF_HOME: join(root, 'hf-home'), HF_ENDPOINT: hub.url, PATH: process.env.PATH };
  return { hub, root, cache, env };
}

/** Every entry under dir: "path file <size>", "path -> <link target>", "path/" for folders. */
export function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name), rel = prefix + name, st = lstatSync(p);
    if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
    else if (st.isDirectory()) out.push(`${rel}/`, ...tree(p, rel + '/'));
    else out.push(`${rel} file ${statSync(p).size}`);
  }
  return out;
}
