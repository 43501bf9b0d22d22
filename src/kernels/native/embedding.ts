// Native embedding: out[r] = wte[tokens[r]] (+ wpe[positions[r]]) (native/portable.cc); embeddingQ8
// from Q8 rows (native/quant.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => addon().embedding(out, tokens, positions, wte, wpe, n, C);

export const embeddingQ8: KernelSet['embeddingQ8'] = (out, tokens, positions, wq, ws, wpe, n, C) => addon().embeddingQ8(out, tokens, positions, wq, ws, wpe, n, C);
