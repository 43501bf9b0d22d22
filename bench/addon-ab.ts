// Two builds of the native addon side by side in ONE process, interleaved call by call, on the
// int8 matmul at decode shapes (32 rows; weights rotated over ≥ 256 MB of copies, so they stream
// from DRAM as in a real step): the way to see a few-percent kernel change on a shared VM, where
// separate processes drift by more than that. Checks the two give the same bits.
//   node tools/build-native.mjs && cp build/Release/pipegpt_native.node /tmp/a.node   # before
//   (change native/, rebuild)   && cp build/Release/pipegpt_native.node /tmp/b.node   # after
//   node dist/bench/addon-ab.js --a /tmp/a.node --b /tmp/b.node [--rows 32] [--reps 11]
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { NativeAddon } from '../src/kernels/native/addon.js';
import { median } from './stats.js';

const { values: a } = parseArgs({ options: {
  a: { type: 'string' }, b: { type: 'string' }, rows: { type: 'string', default: '32' }, reps: { type: 'string', default: '11' },
} });
if (!a.a || !a.b) { console.error('addon-ab: need --a PATH and --b PATH, two builds of build/Release/pipegpt_native.node'); process.exit(2); }
const req = createRequire(import.meta.url);
const A = req(resolve(a.a)) as NativeAddon, B = req(resolve(a.b)) as NativeAddon;
const n = Number(a.rows), SHAPES: Array<[string, number, number]> = [
  ['gpt2 qkv', 768, 2304], ['gpt2 o', 768, 768], ['gpt2 up', 768, 3072], ['gpt2 down', 3072, 768], ['gpt2 lm_head', 768, 50257],
];

console.log(`matmulQ8Rows, ${n} rows, median of ${a.reps} interleaved samples; A = ${a.a}, B = ${a.b}`);
console.log('| shape | I×O | A ms | B ms | B / A | same bits |\n| --- | --- | --- | --- | --- | --- |');
for (const [name, I, O] of SHAPES) {
  const nb = I / 32, copies = Math.max(2, Math.ceil(256e6 / (O * I)));
  const W = Array.from({ length: copies }, () => ({ q: Int8Array.from({ length: O * I }, (_, i) => ((Math.imul(i, 2654435761) >>> 24) & 255) - 128), s: new Float32Array(O * nb).fill(0.01) }));
  const x = Float32Array.from({ length: n * I }, (_, i) => Math.sin(i)), xq = new Int8Array(n * I), xd = new Float32Array(n * nb);
  A.quantizeRowsQ8(xq, xd, x, n, I);
  const outA = new Float32Array(n * O), outB = new Float32Array(n * O);
  const time = (M: NativeAddon, out: Float32Array) => {
    const t = performance.now();
    for (const w of W) M.matmulQ8Rows(out, xq, xd, w.q, w.s, null, n, I, O, 0, O);
    return (performance.now() - t) / copies;
  };
  const ta: number[] = [], tb: number[] = [];
  for (let r = 0; r < Number(a.reps); r++) { ta.push(time(A, outA)); tb.push(time(B, outB)); }
  const same = Buffer.from(outA.buffer).equals(Buffer.from(outB.buffer));
  const ma = median(ta), mb = median(tb);
  console.log(`| ${name} | ${I}×${O} | ${ma.toFixed(3)} | ${mb.toFixed(3)} | ${(mb / ma).toFixed(3)} | ${same ? 'yes' : 'NO'} |`);
  if (!same) process.exitCode = 1;
}
