// pipegpt's public API.
//   Engines:   PipelineEngine (worker-thread pipeline), LocalEngine (single thread; scoring)
//   Model:     loadCheckpoint, indexCheckpoint, readModelConfig, parameterCount, presetName
//   Sampling:  resolveSamplingParams, DEFAULT_SAMPLING
//   Tokenizer: Tokenizer (interface), loadTokenizer, Gpt2Tokenizer, HfTokenizer,
//              applyChatTemplate, renderChatTemplate
//   Hub:       resolveModel (a directory or org/name[@rev] → a directory), listCachedModels, hubCacheDir
//   Errors:    CheckpointError, SamplingParamError, RequestError, KvCacheFullError, UsageError, HubError,
//              TokenizerError, ChatTemplateError
export { PipelineEngine } from './runtime/pipeline-engine.js';
export { DEFAULT_MODEL_DIR, type EngineOptions } from './runtime/options.js';
export { planStages, describePlan, type StagePlan } from './pipeline/stage-plan.js';
export { LocalEngine } from './runtime/local-engine.js';
export { scoreTokens, type ScoreResult } from './engine/score.js';
export type { Completion, Choice, GenerateRequest, LogprobEntry, RequestFailure } from './engine/types.js';
export { loadCheckpoint, indexCheckpoint } from './model/checkpoint.js';
export { readModelConfig, parameterCount, presetName, PRESETS, type ModelConfig } from './model/config.js';
export { resolveSamplingParams, DEFAULT_SAMPLING, type SamplingParams } from './sampling/params.js';
export { Gpt2Tokenizer, EOT } from './tokenizer/gpt2.js';
export { StreamDecoder, type Tokenizer } from './tokenizer/types.js';
export { HfTokenizer } from './tokenizer/hf.js';
export { loadTokenizer } from './tokenizer/load.js';
export { applyChatTemplate, renderChatTemplate, type ChatMessage, type ChatOptions } from './tokenizer/chat.js';
export { stageStats, formatStageTable, type StageStats } from './profile/stage-stats.js';
export { backendStatus, resolveBackend } from './kernels/register-all.js';
export { resolveModel, listCachedModels, hubCacheDir, type ResolveOptions, type ResolvedModel, type CachedModel } from './hub/index.js';
export * from './errors.js';
