// Native grouped-query attention over the paged KV cache, same semantics as reference/attention.ts:
// scores in f32 (8-lane dot products), softmax with an f64 sum, weighted sum of values
// (native/drivers.cc attention, inner loops per SIMD path, templated on the cache's element: f32 or f16).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const attention: KernelSet['attention'] = (a) =>
  addon().attention(a.out, a.qkv, a.kCache, a.vCache, a.seqIds, a.positions, a.blockTable, a.maxBlocksPerSeq,
    a.blockSize, a.n, a.nHead, a.nKvHead, a.headDim, a.window, a.scratch, a.h0, a.h1);
