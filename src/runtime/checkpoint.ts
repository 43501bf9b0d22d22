// The first step of opening any engine: the checkpoint indexed (config and safetensors headers
// checked, no weights read) and the format its linear weights will be held in, so the memory plan
// is made, and refused, before a byte of weights is loaded.
import { indexCheckpoint, type CheckpointIndex } from '../model/checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import { fullModelStage, planParams } from '../model/param-layout.js';
import { chooseKvFormat, type KvFormat } from '../kv/kv-store.js';
import { chooseFormat, type WeightFormat } from '../model/weight-format.js';
import type { ResolvedEngineOptions } from './options.js';

export interface OpenedCheckpoint {
  index: CheckpointIndex;
  config: ModelConfig;
  format: WeightFormat;
  kvFormat: KvFormat;   // the KV cache's element type (kv_cache_dtype, auto: from format)
  weightsBytes: number; // the whole model's parameter buffer in that format
  modelId: string;      // the prefix cache's root: this model in this weight and KV format (its KV rows differ from another's)
}

export function openCheckpoint(modelDir: string, o: ResolvedEngineOptions): OpenedCheckpoint {
  const index = indexCheckpoint(modelDir), config = index.config, format = chooseFormat(index.dtypes, o.dtype, o.quantization);
  const kvFormat = chooseKvFormat(format, o.kvCacheDtype, config);
  return {
    index, config, format, kvFormat, weightsBytes: planParams(config, fullModelStage(config), format).totalBytes,
    modelId: `${modelDir}|${JSON.stringify(format)}|kv ${kvFormat}`,
  };
}
