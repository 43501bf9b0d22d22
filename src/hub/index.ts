// Hugging Face Hub models: `resolveModel` turns --model (a directory or org/name[@revision]) into a
// directory; `listCachedModels` backs `pipegpt models`.
export { resolveModel, type ResolveOptions, type ResolvedModel } from './resolve.js';
export { listCachedModels, type CachedModel } from './models.js';
export { hubCacheDir } from './cache.js';
export { looksLikeHubId, parseHubId } from './ids.js';
