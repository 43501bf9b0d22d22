// Native rotary embedding (optionally with Qwen3's per-head q/k RMSNorm first), in place on qkv;
// bit-identical to reference/rope.ts on every SIMD path (native/drivers.cc rope).
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const rope: KernelSet['rope'] = (a) =>
  addon().rope(a.qkv, a.positions, a.cos, a.sin, a.n, a.nHead, a.nKvHead, a.headDim, a.qNorm, a.kNorm, a.eps, a.h0, a.h1);
