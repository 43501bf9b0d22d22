// KV storage for a range of layers, laid out once in a SharedArrayBuffer:
// K and V per layer, each [nBlocks · blockSize, NKV·D] (a slot is one token's key or value for
// every KV head: grouped-query attention makes the cache NH/NKV times smaller).
import type { ModelConfig } from '../model/config.js';
import { allocShared } from '../kernels/native/huge-pages.js';

export interface KvStore {
  buffer: SharedArrayBuffer;
  layerStart: number;
  k: Float32Array[]; // k[l - layerStart]: [nSlots, NKV·D]
  v: Float32Array[]; // v[l - layerStart]: [nSlots, NKV·D]
  nBlocks: number;
  blockSize: number;
}

export function kvBytesPerToken(c: ModelConfig, nLayers = c.nLayer): number {
  return 2 * nLayers * c.nKvHead * c.headDim * 4;
}

export function viewKvStore(c: ModelConfig, layerStart: number, layerEnd: number, nBlocks: number, blockSize: number, buffer?: SharedArrayBuffer): KvStore {
  const perLayer = nBlocks * blockSize * c.nKvHead * c.headDim; // floats
  const nL = layerEnd - layerStart;
  // pages are mapped on first write (in a worker's kvWrite), 2 MiB at a time where possible
  buffer ??= allocShared(2 * nL * perLayer * 4);
  const k: Float32Array[] = [], v: Float32Array[] = [];
  for (let i = 0; i < nL; i++) {
    k.push(new Float32Array(buffer, (2 * i) * perLayer * 4, perLayer));
    v.push(new Float32Array(buffer, (2 * i + 1) * perLayer * 4, perLayer));
  }
  return { buffer, layerStart, k, v, nBlocks, blockSize };
}
