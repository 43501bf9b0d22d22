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
  matmul(x: Float32Array, w: Float32Array, b: Float32Array, n: number, I: number, O: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < n; r++) for (let j = 0; j < O; j++) {
      let s = b[j];
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
  embedding(tokens: Int32Array, positions: Int32Array, wte: Float32Array, wpe: Float32Array, C: number): number[] {
    return Array.from(tokens).flatMap((tok, r) => row(wte, tok, C).map((v, i) => v + wpe[positions[r] * C + i]));
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
