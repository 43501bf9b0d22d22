// Native attention over the paged KV cache, same semantics as reference/attention.ts: scores in f32
// (8-lane dot products), softmax with an f64 sum, weighted sum of values (native/kernels.cc attention_k).
import type { KernelConfig } from '../registry.js';
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const attention: KernelSet['attention'] = (a) =>
  addon().attention(a.out, a.qkv, a.kCache, a.vCache, a.seqIds, a.positions, a.blockTable, a.maxBlocksPerSeq,
    a.blockSize, a.n, a.nHead, a.C, a.scratch, a.h0, a.h1);

export const attentionConfig: KernelConfig<'attention'> = { backend: 'native', op: 'attention', fn: attention };
