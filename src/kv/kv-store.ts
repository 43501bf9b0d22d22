// KV storage for a range of layers, laid out once in a SharedArrayBuffer:
// K and V per layer, each [nBlocks · blockSize, NKV·D] (a slot is one token's key or value for
// every KV head: grouped-query attention makes the cache NH/NKV times smaller), of f32 or of IEEE
// f16 bits (kv_cache_dtype; kernels/names.ts KvCache: the view's type is the element type).
import { UsageError } from '../errors.js';
import type { KvCache } from '../kernels/names.js';
import type { ModelConfig } from '../model/config.js';
import type { WeightFormat } from '../model/weight-format.js';
import { allocShared } from '../kernels/native/huge-pages.js';

export type KvCacheDtype = 'auto' | 'float32' | 'float16';
export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ['auto', 'float32', 'float16'];
/** The cache's element type. */
export type KvFormat = 'f32' | 'f16';

/**
 * kv_cache_dtype → the element type: float32 / float16 as asked; auto → f32 with f32 linear
 * weights (the exact path of the float64 golden files), f16 with 16- or 8-bit ones (issue #12:
 * an f32 cache was a third of an int8 job's memory).
 */
export function chooseKvFormat(weights: WeightFormat, dtype: KvCacheDtype = 'auto'): KvFormat {
  if (!KV_CACHE_DTYPES.includes(dtype)) throw new UsageError(`kv_cache_dtype must be one of ${KV_CACHE_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  if (dtype !== 'auto') return dtype === 'float16' ? 'f16' : 'f32';
  return weights === 'f32' ? 'f32' : 'f16';
}

const ELEMENT_BYTES: Record<KvFormat, number> = { f32: 4, f16: 2 };

export interface KvStore {
  buffer: SharedArrayBuffer;
  format: KvFormat;
  layerStart: number;
  k: KvCache[]; // k[l - layerStart]: [nSlots, NKV·D], Float32Array (f32) or Uint16Array (f16)
  v: KvCache[]; // v[l - layerStart]: [nSlots, NKV·D]
  nBlocks: number;
  blockSize: number;
}

export function kvBytesPerToken(c: ModelConfig, format: KvFormat, nLayers = c.nLayer): number {
  return 2 * nLayers * c.nKvHead * c.headDim * ELEMENT_BYTES[format];
}

export function viewKvStore(c: ModelConfig, format: KvFormat, layerStart: number, layerEnd: number, nBlocks: number, blockSize: number,
  buffer?: SharedArrayBuffer): KvStore {
  const perLayer = nBlocks * blockSize * c.nKvHead * c.headDim; // elements
  const nL = layerEnd - layerStart, bytes = ELEMENT_BYTES[format];
  // pages are mapped on first write (in a worker's kvWrite), 2 MiB at a time where possible
  buffer ??= allocShared(2 * nL * perLayer * bytes);
  const view = (i: number): KvCache => (format === 'f16' ? new Uint16Array(buffer, i * perLayer * bytes, perLayer) : new Float32Array(buffer, i * perLayer * bytes, perLayer));
  const k: KvCache[] = [], v: KvCache[] = [];
  for (let i = 0; i < nL; i++) {
    k.push(view(2 * i));
    v.push(view(2 * i + 1));
  }
  return { buffer, format, layerStart, k, v, nBlocks, blockSize };
}
