// How a model's linear weights are held in memory (issue #12): f32, 16-bit (bf16 / f16, widened to
// f32 inside the matmul), or 8-bit blocks (q8, src/kernels/quant.ts). Norms, biases, position
// embeddings and RoPE tables stay f32 (a few percent of the bytes; every kernel reads them as
// f32). With q8 the token table and LM head are q8 rows too: the head is up to a third of the
// bytes streamed per step for small models, and the lookup dequantizes the same rows (embeddingQ8)
// rather than keep an f32 copy of the table (GPT-2 small: 154 MB; the int8 run's RSS 754 → 575 MiB).
import { UsageError } from '../errors.js';
import { toBf16, toF16 } from '../kernels/f16.js';
import { q8Blocks } from '../kernels/quant.js';

export type WeightFormat = 'f32' | 'bf16' | 'f16' | 'q8';
export type Dtype = 'auto' | 'float32' | 'bfloat16' | 'float16';
export type Quantization = 'none' | 'int8';
export const DTYPES: readonly Dtype[] = ['auto', 'float32', 'bfloat16', 'float16'];
export const QUANTIZATIONS: readonly Quantization[] = ['none', 'int8'];

/**
 * The format of the linear weights: int8 quantization → q8; an explicit dtype → that type; auto →
 * the checkpoint's own 16-bit type when every weight on disk has it, else f32.
 */
export function chooseFormat(dtypesOnDisk: Record<string, number>, dtype: Dtype = 'auto', quantization: Quantization = 'none'): WeightFormat {
  if (!DTYPES.includes(dtype)) throw new UsageError(`dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  if (!QUANTIZATIONS.includes(quantization)) throw new UsageError(`quantization must be one of ${QUANTIZATIONS.join(', ')}, got ${JSON.stringify(quantization)}`);
  if (quantization === 'int8') return 'q8';
  if (dtype !== 'auto') return ({ float32: 'f32', bfloat16: 'bf16', float16: 'f16' } as const)[dtype];
  const kinds = Object.keys(dtypesOnDisk);
  return kinds.length === 1 && kinds[0] === 'BF16' ? 'bf16' : kinds.length === 1 && kinds[0] === 'F16' ? 'f16' : 'f32';
}

/** A linear weight as stored: [I, O] for f32 and 16-bit (column shards for tensor-parallel ranks), [O, I] rows for q8. */
export type WeightStore =
  | { kind: 'f32'; w: Float32Array }
  | { kind: 'bf16' | 'f16'; w: Uint16Array }
  | { kind: 'q8'; q: Int8Array; s: Float32Array };

/** Bytes of one stored linear weight [I, O] in a format (q8: int8 values plus one f32 scale per block of 32). */
export function linearBytes(format: WeightFormat, I: number, O: number): number {
  if (format === 'q8') return O * I + 4 * O * q8Blocks(I);
  return (format === 'f32' ? 4 : 2) * I * O;
}

export { toBf16, toF16 }; // f32 → 16-bit bits (kernels/f16.ts, shared with the f16 KV cache)
