// `pipegpt inspect`: what a checkpoint is, without loading its weights.
import { Command } from 'commander';
import { DEFAULT_MODEL_DIR } from '../runtime/options.js';
import { indexCheckpoint } from '../model/checkpoint.js';
import { parameterCount, presetName } from '../model/config.js';
import { kvBytesPerToken, KV_FORMATS, q8KvFits } from '../kv/kv-store.js';
import { fullModelStage, planParams } from '../model/param-layout.js';
import { MODEL_HELP, TOKEN_HELP, modelDir } from './options.js';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show a checkpoint\'s config, parameter count, memory needed and preset name')
    .option('--model <dir|id>', MODEL_HELP, DEFAULT_MODEL_DIR)
    .option('--token <token>', TOKEN_HELP)
    .option('--json', 'print one JSON object')
    .action(async (opts: { model: string; json?: boolean }) => {
      const ix = indexCheckpoint(await modelDir(opts.model, opts));
      const c = ix.config, params = parameterCount(c);
      const info = {
        model: opts.model, preset: presetName(c), n_layer: c.nLayer, n_head: c.nHead, n_embd: c.nEmbd,
        n_positions: c.nPositions, vocab_size: c.vocabSize, n_inner: c.nInner, family: c.family, n_kv_head: c.nKvHead, head_dim: c.headDim,
        norm: c.norm, norm_eps: c.normEps, positions: c.positions, rope_theta: c.positions === 'rope' ? c.ropeTheta : null,
        rope_scaling: c.ropeScaling, mlp: c.mlp, tied_head: c.tied, sliding_window: c.window || null, eos_token_ids: c.eosTokenIds,
        parameters: params, files: ix.files.length, dtypes_on_disk: ix.dtypes,
        weights_bytes: Object.fromEntries((['f32', 'bf16', 'q8'] as const).map((f) => [f, planParams(c, fullModelStage(c), f).totalBytes])),
        kv_bytes_per_token: Object.fromEntries(KV_FORMATS.filter((f) => f !== 'q8' || q8KvFits(c)).map((f) => [f, kvBytesPerToken(c, f)])),
      };
      if (opts.json) return void process.stdout.write(JSON.stringify(info) + '\n');
      const lines = [
        ['model', info.model], ['preset', info.preset ?? '(custom shape)'],
        ['family', `${c.family}: ${c.norm}, ${c.positions === 'rope' ? `RoPE θ=${c.ropeTheta}${c.ropeScaling ? ` (${c.ropeScaling.type} ×${c.ropeScaling.factor})` : ''}` : 'learned positions'}, ${c.mlp === 'swiglu' ? 'SwiGLU' : 'GELU'} MLP, ${c.tied ? 'tied' : 'untied'} head${c.qkNorm ? ', q/k norm' : ''}${c.window ? `, sliding window ${c.window}` : ''}`],
        ['layers / heads / width', `${c.nLayer} / ${c.nHead} (${c.nKvHead} KV, head_dim ${c.headDim}) / ${c.nEmbd} (MLP ${c.nInner})`],
        ['context / vocabulary', `${c.nPositions} / ${c.vocabSize}`],
        ['parameters', `${params.toLocaleString('en-US')} (${(params / 1e6).toFixed(1)}M)`],
        ['on disk', Object.entries(ix.dtypes).map(([d, b]) => `${d} ${mib(b)}`).join(', ') + ` in ${ix.files.length} file(s)`],
        ['weights in memory', `f32 ${mib(info.weights_bytes.f32)}, bf16/f16 ${mib(info.weights_bytes.bf16)}, int8 ${mib(info.weights_bytes.q8)} (--dtype / --quantization; norms and biases stay f32, embeddings too except with int8: q8 rows)`],
        ['KV cache per token', Object.entries(info.kv_bytes_per_token).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} KiB (${mib(b * c.nPositions)} per full context)`).join(', ') +
          ' (--kv-cache-dtype; auto: like the weights, f16 with 16-bit ones, q8 with int8 ones)'],
      ];
      for (const [k, v] of lines) process.stdout.write(`${k.padEnd(24)} ${v}\n`);
    });
}
