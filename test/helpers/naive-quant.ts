// Naive versions of the Q8 format and of matmulQ8 / 16-bit widening, written for the tests alone
// (no code shared with src/kernels). Q8 rounding is spelled differently from src/kernels/quant.ts:
// the exact quotient is split into integer and fraction parts (both exact in f64 here) and ties
// are decided on the fraction.
const Q = 32;

function roundAway(v: number): number {  // v ≥ 0, round half away from zero
  const i = Math.trunc(v), frac = v - i;
  return frac >= 0.5 ? i + 1 : i;
}

/** [R, I] f32 → q [R, I] int values, d [R, nb] (f32 values). */
export function naiveQuantize(x: Float32Array, R: number, I: number): { q: Int8Array; d: Float32Array } {
  const nb = Math.ceil(I / Q), q = new Int8Array(R * I), d = new Float32Array(R * nb);
  for (let r = 0; r < R; r++) for (let b = 0; b < nb; b++) {
    const ks: number[] = [];
    for (let k = b * Q; k < Math.min(I, b * Q + Q); k++) ks.push(r * I + k);
    const amax = ks.reduce((m, i) => (Math.abs(x[i]) > m ? Math.abs(x[i]) : m), 0);
    d[r * nb + b] = amax / 127;  // stored as f32: the correctly rounded f32 quotient
    const db = d[r * nb + b];
    for (const i of ks) {
      const v = db === 0 ? 0 : Math.min(127, roundAway(Math.abs(x[i]) / db));
      q[i] = x[i] < 0 ? -v : v;
    }
  }
  return { q, d };
}

/** The matmulQ8 recipe, with each f32 rounding done by a store into a Float32Array. */
export function naiveMatmulQ8(x: Float32Array, wq: Int8Array, ws: Float32Array, bias: Float32Array | null, n: number, I: number, O: number): Float32Array {
  const nb = Math.ceil(I / Q), { q, d } = naiveQuantize(x, n, I), out = new Float32Array(n * O), t = new Float32Array(3);
  for (let r = 0; r < n; r++) for (let j = 0; j < O; j++) {
    t[0] = 0;
    for (let b = 0; b < nb; b++) {
      let dot = 0;
      for (let k = b * Q; k < Math.min(I, b * Q + Q); k++) dot += q[r * I + k] * wq[j * I + k];
      t[1] = d[r * nb + b] * ws[j * nb + b];
      t[2] = t[1] * dot;
      t[0] = t[0] + t[2];
    }
    out[r * O + j] = bias ? bias[j] + t[0] : t[0];
  }
  return out;
}

/** f32 values of bf16 bits. */
export function bf16Values(w: Uint16Array): Float32Array {
  const dv = new DataView(new ArrayBuffer(4)), out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) { dv.setUint32(0, w[i] * 65536); out[i] = dv.getFloat32(0); }
  return out;
}

/** f32 values of IEEE binary16 bits. */
export function f16Values(w: Uint16Array): Float32Array {
  return Float32Array.from(w, (h) => {
    const sign = h >= 0x8000 ? -1 : 1, e = Math.floor(h / 1024) % 32, m = h % 1024;
    if (e === 31) return m === 0 ? sign * Infinity : NaN;
    return sign * (e === 0 ? m / 1024 * 2 ** -14 : (1 + m / 1024) * 2 ** (e - 15));
  });
}

/** The values a q8 KV cache [slots, KV] holds (36-byte blocks: f32 scale, 32 int8), read back as f32(q·d). */
export function q8KvValues(c: Int8Array, KV: number): Float32Array {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength), nb = Math.floor(c.length / 36), out = new Float32Array(nb * 32);
  for (let b = 0; b < nb; b++) for (let i = 0; i < 32; i++) out[b * 32 + i] = Math.fround(dv.getFloat32(b * 36, true) * c[b * 36 + 4 + i]);
  return out.subarray(0, Math.floor(out.length / KV) * KV);
}

/**
 * x rounded to the nearest IEEE binary16 value (ties to even; subnormals kept, steps of 2^-24;
 * beyond the largest finite 65504 → ±Infinity), by the value's own arithmetic (no bit tricks).
 */
export function naiveF16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.max(-14, Math.floor(Math.log2(a)));
  if (e > -14 && 2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10), q = a / ulp, f = Math.floor(q), rest = q - f;
  const r = (rest > 0.5 || (rest === 0.5 && f % 2 === 1) ? f + 1 : f) * ulp;
  const v = r > 65504 ? Infinity : r;
  return x < 0 ? -v : v;
}
