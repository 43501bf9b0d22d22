// Reference RMSNorm (HF LlamaRMSNorm): s = 1/√(Σx²/C + eps) with Σx² in f64 as sumSquares8 sums
// it, then out = w · f32(x · s), the product with w an f32 product (the f64 product of two f32
// values is exact, and storing rounds it once).   [n, C] → [n, C]; out may alias inp.
import type { KernelSet } from '../names.js';

/**
 * Σ x[at + c]² for c < C in f64 as 8 interleaved partial sums (lane l: c ≡ l mod 8, in increasing
 * c; each square is exact), combined ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)). Eight
 * independent sums, not one chain: native/drivers.cc runs the same order 8 lanes wide (one
 * accumulator in index order was a chain of C dependent f64 adds, ~1 µs a 768-wide row).
 */
export function sumSquares8(x: Float32Array, at: number, C: number): number {
  const s = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let c = 0; c < C; c++) s[c & 7] += x[at + c] * x[at + c];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

export const rmsnorm: KernelSet['rmsnorm'] = (out, inp, w, n, C, eps) => {
  for (let r = 0; r < n; r++) {
    const o = r * C;
    const s = 1 / Math.sqrt(sumSquares8(inp, o, C) / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = w[c] * Math.fround(inp[o + c] * s);
  }
};
