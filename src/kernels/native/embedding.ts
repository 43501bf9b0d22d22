// Native embedding: out[r] = wte[tokens[r]] (+ wpe[positions[r]]) (native/portable.cc).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const embedding: KernelSet['embedding'] = (out, tokens, positions, wte, wpe, n, C) => addon().embedding(out, tokens, positions, wte, wpe, n, C);

