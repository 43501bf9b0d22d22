// Which files of a repo pipegpt downloads: config.json and the safetensors weights the loader reads
// (model.safetensors, or model.safetensors.index.json and the shards it lists), plus the small
// optional files when the repo has them. Pickle weights are never fetched: unpickling runs code.
import { readFileSync } from 'node:fs';
import { HubError } from '../errors.js';
import { checkFileName } from './ids.js';

export const CONFIG = 'config.json';
export const SINGLE = 'model.safetensors';
export const INDEX = 'model.safetensors.index.json';
export const OPTIONAL = ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

const PICKLE = /\.(bin|pt|pth|ckpt|pkl|pickle)$/;

export interface FilePlan { weights: 'single' | 'sharded'; required: string[]; optional: string[]; absent: string[] }

/** The plan for a repo listing; refuses pickle-only repos and repos without config or weights. */
export function planFiles(repo: string, files: string[]): FilePlan {
  const have = new Set(files);
  const optional = OPTIONAL.filter((f) => have.has(f));
  const absent = OPTIONAL.filter((f) => !have.has(f));
  if (have.has(SINGLE) || have.has(INDEX)) {
    if (!have.has(CONFIG)) throw new HubError('no-weights', `${repo}: the repo has weights but no config.json; pipegpt needs both`);
    // the loader prefers model.safetensors when both are there, so only that is fetched
    const weights = have.has(SINGLE) ? 'single' : 'sharded';
    return { weights, required: [CONFIG, weights === 'single' ? SINGLE : INDEX], optional, absent };
  }
  const pickles = files.filter((f) => PICKLE.test(f) && !f.includes('/'));
  if (pickles.length > 0) {
    throw new HubError('pickle-only', `${repo}: has only pickle weights (${pickles.join(', ')}), no model.safetensors; ` +
      'pickle files can run arbitrary code when loaded, so pipegpt never loads them — use a revision with safetensors weights ' +
      '(or convert them, e.g. with the hub\'s "convert to safetensors" space, and pass the result as a local --model directory)');
  }
  const other = files.filter((f) => f.endsWith('.safetensors'));
  throw new HubError('no-weights', `${repo}: no ${SINGLE} or ${INDEX} in the repo${other.length ? ` (found ${other.slice(0, 3).join(', ')}, which the loader does not read)` : ''}`);
}

/** The shard names in a downloaded index, each checked to be a plain relative name in the repo. */
export function shardsOf(repo: string, indexPath: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new HubError('no-weights', `${repo}/${INDEX}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof map !== 'object' || map === null) throw new HubError('no-weights', `${repo}/${INDEX}: no "weight_map" object`);
  const names = new Set<string>();
  for (const f of Object.values(map)) {
    if (typeof f !== 'string' || !f.endsWith('.safetensors')) throw new HubError('hostile', `${repo}/${INDEX}: weight_map names ${JSON.stringify(f)}, not a .safetensors file`);
    names.add(checkFileName(f, repo));
  }
  return [...names].sort();
}
