// Rotary position embedding tables, built once at load into the parameter buffer so that every
// backend and worker reads the same numbers (no transcendental function can differ between paths).
// inv_freq follows HF modeling_rope_utils: default θ^(-2i/D); "linear" divides it by the factor;
// "llama3" (_compute_llama3_parameters) keeps high frequencies, divides low ones by the factor and
// blends in between. Angles and cos/sin in f64, rounded once to f32.   cos, sin: [P, D/2]
import type { ModelConfig } from './config.js';

/** inv_freq[i], i < D/2, after scaling. */
export function inverseFrequencies(c: ModelConfig): Float64Array {
  const half = c.headDim / 2, inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (s?.type === 'linear') for (let i = 0; i < half; i++) inv[i] /= s.factor;
  if (s?.type === 'llama3') {
    const lowWavelen = s.originalContext / s.lowFreqFactor, highWavelen = s.originalContext / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= s.factor;          // low frequencies: scaled
      else if (!(wavelen < highWavelen)) {                   // medium: blended
        const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
      }                                                      // high frequencies: unchanged
    }
  }
  return inv;
}

/** Fills cos/sin [P, D/2] for positions 0..P-1. */
export function fillRopeTables(c: ModelConfig, cos: Float32Array, sin: Float32Array): void {
  const inv = inverseFrequencies(c), half = inv.length;
  for (let p = 0; p < c.nPositions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * inv[i];
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
}
