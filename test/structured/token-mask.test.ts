// The word-wise grammar mask equals the per-token definition bit for bit, and the greedy masked
// argmax equals the argmax of the masked row, on random masks and rows (ragged last word too).
import test from 'ava';
import { argmax } from '../../src/sampling/sampler.js';
import { applyTokenMask, applyTokenMaskReference, maskedArgmax } from '../../src/sampling/token-mask.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('applyTokenMask matches the per-token reference bit for bit', (t) => {
  const r = rng(7);
  for (const V of [1, 31, 32, 33, 100, 1000, 50257]) {
    for (const density of [0, 0.02, 0.5, 0.98, 1]) {
      const mask = new Int32Array(Math.ceil(V / 32));
      for (let i = 0; i < V; i++) if (r() < density) mask[i >> 5] |= 1 << (i & 31);
      if (density === 1) mask.fill(-1); // all-allowed words, bits past V set as xgrammar leaves them
      const row = Float32Array.from({ length: V }, () => (r() - 0.5) * 20);
      const a = row.slice(), b = row.slice();
      applyTokenMask(a, mask);
      applyTokenMaskReference(b, mask);
      t.deepEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer), `V=${V} density=${density}`);
      const want = argmax(b);
      t.is(maskedArgmax(row, 0, V, mask), want, `argmax V=${V} density=${density}`);
    }
  }
});

test('maskedArgmax reads the row at an offset, keeps the first of equal maxima, and is -1 when nothing is allowed', (t) => {
  const logits = new Float32Array([9, 9, 1, 5, 5, 2, 9]);
  const mask = new Int32Array([0b0011110]); // ids 1..4 of the row at offset 0
  t.is(maskedArgmax(logits, 0, 7, mask), 1);
  t.is(maskedArgmax(logits, 2, 5, new Int32Array([0b00110])), 1); // row [1,5,5,2,9], ids 1 and 2 allowed (5 and 5): the first
  t.is(maskedArgmax(logits, 0, 7, new Int32Array([0])), -1);
  t.is(maskedArgmax(new Float32Array([-Infinity, NaN]), 0, 2, new Int32Array([3])), -1);
});
