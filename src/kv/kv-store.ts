// KV storage for a range of layers, laid out once in a SharedArrayBuffer:
// K and V per layer, each [nBlocks · blockSize, NKV·D] (a slot is one token's key or value for
// every KV head: grouped-query attention makes the cache NH/NKV times smaller), of f32, of IEEE
// f16 bits, or of Q8 rows (NKV·D/32 blocks of 36 bytes a slot) (kv_cache_dtype; kernels/names.ts
// KvCache: the view's type is the element type).
import { UsageError } from '../errors.js';
import type { KvCache } from '../kernels/names.js';
import type { ModelConfig } from '../model/config.js';
import { kv8RowBytes, Q8_BLOCK } from '../kernels/quant.js';
import type { WeightFormat } from '../model/weight-format.js';
import { allocShared } from '../kernels/native/huge-pages.js';

export type KvCacheDtype = 'auto' | 'float32' | 'float16' | 'int8';
export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ['auto', 'float32', 'float16', 'int8'];
/** The cache's element type. */
export type KvFormat = 'f32' | 'f16' | 'q8';
export const KV_FORMATS: readonly KvFormat[] = ['f32', 'f16', 'q8'];

/**
 * kv_cache_dtype → the element type: float32 / float16 / int8 (q8) as asked; auto follows the
 * linear weights: f32 with f32 ones (the exact path of the float64 golden files), f16 with 16-bit
 * ones, q8 with int8 ones (issue #12: an f32 cache was a third of an int8 job's memory, an f16 one
 * still a quarter; q8 moved the shipped model's perplexity by +0.005 %, README). q8 blocks are 32
 * channels of one head, so int8 needs head_dim a multiple of 32 (every family we serve has 64 or
 * 128); auto then falls back to f16.
 */
export function chooseKvFormat(weights: WeightFormat, dtype: KvCacheDtype = 'auto', c?: ModelConfig): KvFormat {
  if (!KV_CACHE_DTYPES.includes(dtype)) throw new UsageError(`kv_cache_dtype must be one of ${KV_CACHE_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  const q8ok = !c || q8KvFits(c);
  if (dtype === 'int8' && !q8ok) {
    throw new UsageError(`kv_cache_dtype int8 keeps keys and values in blocks of ${Q8_BLOCK} channels of one head: it needs head_dim a multiple of ${Q8_BLOCK}, and this model's is ${c!.headDim}; use float16`);
  }
  if (dtype !== 'auto') return ({ float32: 'f32', float16: 'f16', int8: 'q8' } as const)[dtype];
  return weights === 'f32' ? 'f32' : weights === 'q8' && q8ok ? 'q8' : 'f16';
}

/** Whether a model's heads are whole q8 blocks (the int8 cache's condition). */
export const q8KvFits = (c: ModelConfig): boolean => c.headDim % Q8_BLOCK === 0;

/** Bytes of one cache row (one token's K, or V, of one layer) of kvDim channels. */
export function kvRowBytes(format: KvFormat, kvDim: number): number {
  return format === 'q8' ? kv8RowBytes(kvDim) : kvDim * (format === 'f16' ? 2 : 4);
}

export interface KvStore {
  buffer: SharedArrayBuffer;
  format: KvFormat;
  layerStart: number;
  k: KvCache[]; // k[l - layerStart]: [nSlots, NKV·D], Float32Array (f32), Uint16Array (f16) or Int8Array (q8 rows)
  v: KvCache[]; // v[l - layerStart]: [nSlots, NKV·D]
  nBlocks: number;
  blockSize: number;
}

export function kvBytesPerToken(c: ModelConfig, format: KvFormat, nLayers = c.nLayer): number {
  return 2 * nLayers * kvRowBytes(format, c.nKvHead * c.headDim);
}

export function viewKvStore(c: ModelConfig, format: KvFormat, layerStart: number, layerEnd: number, nBlocks: number, blockSize: number,
  buffer?: SharedArrayBuffer): KvStore {
  const perLayer = nBlocks * blockSize * kvRowBytes(format, c.nKvHead * c.headDim); // bytes (a multiple of 4)
  const nL = layerEnd - layerStart;
  // pages are mapped on first write (in a worker's kvWrite), 2 MiB at a time where possible
  buffer ??= allocShared(2 * nL * perLayer);
  const view = (i: number): KvCache => {
    const at = i * perLayer;
    return format === 'f16' ? new Uint16Array(buffer, at, perLayer / 2) : format === 'q8' ? new Int8Array(buffer, at, perLayer) : new Float32Array(buffer, at, perLayer / 4);
  };
  const k: KvCache[] = [], v: KvCache[] = [];
  for (let i = 0; i < nL; i++) {
    k.push(view(2 * i));
    v.push(view(2 * i + 1));
  }
  return { buffer, format, layerStart, k, v, nBlocks, blockSize };
}
