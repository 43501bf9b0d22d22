// pipegpt's public API.
//   Engines:   PipelineEngine (worker-thread pipeline), LocalEngine (single thread; scoring)
//   Model:     loadCheckpoint, indexCheckpoint, readModelConfig, parameterCount, presetName
//   Sampling:  resolveSamplingParams, DEFAULT_SAMPLING
//   Tokenizer: Tokenizer (interface), loadTokenizer, readEosIds, Gpt2Tokenizer, HfTokenizer,
//              applyChatTemplate, renderChatTemplate
//   Errors:    CheckpointError, SamplingParamError, RequestError, KvCacheFullError, UsageError
export { PipelineEngine, type PipelineOptions } from './pipeline/engine.js';
export { planStages, describePlan, type StagePlan } from './pipeline/stage-plan.js';
export { LocalEngine, DEFAULT_MODEL_DIR } from './engine/local-engine.js';
export { scoreTokens, type ScoreResult } from './engine/score.js';
export type { Completion, Choice, GenerateRequest, EngineOptions, LogprobEntry } from './engine/types.js';
export { loadCheckpoint, indexCheckpoint } from './model/checkpoint.js';
export { readModelConfig, parameterCount, presetName, PRESETS, type ModelConfig } from './model/config.js';
export { resolveSamplingParams, DEFAULT_SAMPLING, type SamplingParams } from './sampling/params.js';
export { Gpt2Tokenizer, EOT } from './tokenizer/gpt2.js';
export { StreamDecoder, type Tokenizer } from './tokenizer/types.js';
export { HfTokenizer } from './tokenizer/hf.js';
export { loadTokenizer, readEosIds } from './tokenizer/load.js';
export { applyChatTemplate, renderChatTemplate, type ChatMessage, type ChatOptions } from './tokenizer/chat.js';
export { stageStats, formatStageTable, type StageStats } from './profile/stage-stats.js';
export { backendStatus, resolveBackend } from './kernels/register-all.js';
export * from './errors.js';
