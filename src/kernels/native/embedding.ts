// Native embedding: out[r] = wte[tokens[r]] + wpe[positions[r]] (native/kernels.cc embedding_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => addon().embedding(out, tokens, positions, wte, wpe, n, C);

export const embeddingConfig: KernelConfig<'embedding'> = { backend: 'native', op: 'embedding', fn: embedding };
