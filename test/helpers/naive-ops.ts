// Naive f64 versions of every op, written for the tests alone (no code shared with src/kernels).
export function rand(n: number, seed: number, scale: number): Float32Array {
  let s = seed * 2654435761 >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function randInt(n: number, seed: number, max: number): Int32Array {
  return Int32Array.from(rand(n, seed, 1), (v) => Math.floor(((v + 1) / 2) * max) % max);
}

const row = (a: ArrayLike<number>, r: number, w: number) => Array.from({ length: w }, (_, i) => a[r * w + i]);

export const naive = {
  matmul(x: Float32Array, w: Float32Array, b: Float32Array | null, n: number, I: number, O: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < n; r++) for (let j = 0; j < O; j++) {
      let s = b === null ? 0 : b[j];
      for (let k = 0; k < I; k++) s += x[r * I + k] * w[k * O + j];
      out.push(s);
    }
    return out;
  },
  layernorm(x: Float32Array, w: Float32Array, b: Float32Array, n: number, C: number, eps: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < n; r++) {
      const v = row(x, r, C), mean = v.reduce((a, c) => a + c, 0) / C;
      const vr = v.reduce((a, c) => a + (c - mean) ** 2, 0) / C;
      v.forEach((c, i) => out.push(((c - mean) / Math.sqrt(vr + eps)) * w[i] + b[i]));
    }
    return out;
  },
  gelu(x: Float32Array): number[] {
    return Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
  },
  embedding(tokens: Int32Array, positions: Int32Array, wte: Float32Array, wpe: Float32Array | null, C: number): number[] {
    return Array.from(tokens).flatMap((tok, r) => row(wte, tok, C).map((v, i) => v + (wpe ? wpe[positions[r] * C + i] : 0)));
  },
  /** x / √(mean(x²) + eps) · w per row */
  rmsnorm(x: Float32Array, w: Float32Array, n: number, C: number, eps: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < n; r++) {
      const v = row(x, r, C), ms = v.reduce((a, c) => a + c * c, 0) / C;
      v.forEach((c, i) => out.push((c / Math.sqrt(ms + eps)) * w[i]));
    }
    return out;
  },
  /** gate / (1 + e^−gate) · up, gate = first half of each row, up = second half (f64: e^1000 = ∞ gives −0) */
  swiglu(gu: Float32Array, n: number, I: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < I; j++) out.push((gu[r * 2 * I + j] / (1 + Math.exp(-gu[r * 2 * I + j]))) * gu[r * 2 * I + I + j]);
    }
    return out;
  },
  /**
   * One head x [D] rotated to position p: (x[i], x[i + D/2]) as the complex number x[i] + i·x[i + D/2]
   * times e^{i·p·θ_i}, θ_i = base^(−2i/D); with norm, x is first RMS-normalized (weights norm, eps).
   */
  ropeHead(x: ArrayLike<number>, p: number, base: number, norm: Float32Array | null, eps: number): number[] {
    const D = x.length, h = D / 2;
    let v = Array.from(x);
    if (norm) {
      const rms = Math.sqrt(v.reduce((a, c) => a + c * c, 0) / D + eps);
      v = v.map((c, i) => (c / rms) * norm[i]);
    }
    const out = new Array<number>(D);
    for (let i = 0; i < h; i++) {
      const ang = p * base ** (-2 * i / D), re = Math.cos(ang), im = Math.sin(ang);
      out[i] = v[i] * re - v[i + h] * im;
      out[i + h] = v[i] * im + v[i + h] * re;
    }
    return out;
  },
  /**
   * Grouped-query attention of one query row q [NH·D] against dense keys/values [L, NKV·D] of its
   * sequence at position p: query head h uses KV head ⌊h·NKV/NH⌋ and positions max(0, p − window + 1)..p
   * (window 0: all).
   */
  gqaRow(q: Float32Array, keys: Float32Array, vals: Float32Array, p: number, NH: number, NKV: number, D: number, window: number): number[] {
    const out = new Array<number>(NH * D).fill(0), KV = NKV * D, first = window > 0 ? Math.max(0, p - window + 1) : 0;
    for (let h = 0; h < NH; h++) {
      const g = Math.floor((h * NKV) / NH), ts = Array.from({ length: p - first + 1 }, (_, i) => first + i);
      const sc = ts.map((t) => {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[h * D + d] * keys[t * KV + g * D + d];
        return s / Math.sqrt(D);
      });
      const mx = Math.max(...sc), e = sc.map((s) => Math.exp(s - mx)), z = e.reduce((a, b) => a + b, 0);
      ts.forEach((t, i) => { for (let d = 0; d < D; d++) out[h * D + d] += (e[i] / z) * vals[t * KV + g * D + d]; });
    }
    return out;
  },
  /** One query row against dense keys/values [L, C] of its sequence, positions 0..p. */
  attentionRow(q: Float32Array, keys: Float32Array, vals: Float32Array, p: number, nHead: number, C: number): number[] {
    const D = C / nHead, out = new Array<number>(C).fill(0);
    for (let h = 0; h < nHead; h++) {
      const sc = Array.from({ length: p + 1 }, (_, t) => {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[h * D + d] * keys[t * C + h * D + d];
        return s / Math.sqrt(D);
      });
      const mx = Math.max(...sc), e = sc.map((s) => Math.exp(s - mx)), z = e.reduce((a, b) => a + b, 0);
      for (let t = 0; t <= p; t++) for (let d = 0; d < D; d++) out[h * D + d] += (e[t] / z) * vals[t * C + h * D + d];
    }
    return out;
  },
  lmHead(x: Float32Array, wte: Float32Array, m: number, C: number, V: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < m; r++) for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += x[r * C + c] * wte[v * C + c];
      out.push(s);
    }
    return out;
  },
  logSoftmax(x: Float32Array, m: number, V: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < m; r++) {
      const v = row(x, r, V), mx = Math.max(...v), lse = mx + Math.log(v.reduce((a, c) => a + Math.exp(c - mx), 0));
      v.forEach((c) => out.push(c - lse));
    }
    return out;
  },
};
