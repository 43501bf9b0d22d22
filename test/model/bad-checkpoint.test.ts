// Every way a checkpoint can be broken gets a clear error naming the file and the tensor or field;
// never a crash, and never a read outside the file.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { encode, layout, readRaw, tempCheckpoint, type RawTensor } from '../helpers/safetensors-writer.js';
import { ckptDir } from '../helpers/paths.js';

const SRC = ckptDir('f32');
const tensors = () => new Map(readRaw(join(SRC, 'model.safetensors')));
const build = (ts: Map<string, RawTensor>) => { const l = layout(ts); return encode(JSON.stringify(l.header), l.data); };
const config = () => JSON.parse(readFileSync(join(SRC, 'config.json'), 'utf8')) as Record<string, unknown>;

function expectError(t: import('ava').ExecutionContext, dir: string, pattern: RegExp, file = 'model.safetensors'): void {
  const e = t.throws(() => loadCheckpoint(dir), { instanceOf: CheckpointError });
  t.regex(e!.message, pattern);
  t.true(e!.message.includes(join(dir, file)) || e!.message.includes(dir), `message names the file: ${e!.message}`);
}

test('a missing tensor is named with its expected shape', (t) => {
  const ts = tensors(); ts.delete('h.1.mlp.c_fc.bias');
  expectError(t, tempCheckpoint(SRC, build(ts)), /missing tensor "h\.1\.mlp\.c_fc\.bias" \(expected shape \[128\]\)/);
});

test('an unexpected tensor is named', (t) => {
  const ts = tensors(); ts.set('h.7.attn.c_attn.weight', ts.get('h.0.attn.c_attn.weight')!);
  expectError(t, tempCheckpoint(SRC, build(ts)), /unexpected tensor "h\.7\.attn\.c_attn\.weight"/);
});

test('a shape disagreeing with config.json names both shapes', (t) => {
  const ts = tensors(); const w = ts.get('h.0.attn.c_proj.weight')!;
  ts.set('h.0.attn.c_proj.weight', { ...w, shape: [16, 64] });
  expectError(t, tempCheckpoint(SRC, build(ts)), /"h\.0\.attn\.c_proj\.weight" has shape \[16,64\] but config\.json implies \[32,32\]/);
});

test('a header length beyond the file is refused before reading', (t) => {
  const l = layout(tensors()); const text = JSON.stringify(l.header);
  expectError(t, tempCheckpoint(SRC, encode(text, l.data, 10_000_000)), /header length 10000000 runs past the end of the \d+-byte file/);
});

test('an absurdly large header length is refused', (t) => {
  const l = layout(tensors());
  expectError(t, tempCheckpoint(SRC, encode(JSON.stringify(l.header), l.data, 2 ** 40)), /header length 1099511627776 bytes is absurdly large/);
});

test('invalid header JSON is reported as such', (t) => {
  const l = layout(tensors()); const text = JSON.stringify(l.header).slice(0, -5) + '#####';
  expectError(t, tempCheckpoint(SRC, encode(text, l.data)), /invalid header JSON/);
});

test('data offsets out of range name the tensor', (t) => {
  const l = layout(tensors()); const e = l.header['ln_f.bias'] as { data_offsets: number[] };
  e.data_offsets = [e.data_offsets[0] + 1_000_000, e.data_offsets[1] + 1_000_000];
  expectError(t, tempCheckpoint(SRC, encode(JSON.stringify(l.header), l.data)), /tensor "ln_f\.bias": data ends at byte \d+ of the data section but the file holds only \d+ bytes/);
});

test('overlapping data offsets name both tensors', (t) => {
  const l = layout(tensors());
  (l.header['ln_f.bias'] as { data_offsets: number[] }).data_offsets = [...(l.header['ln_f.weight'] as { data_offsets: number[] }).data_offsets];
  expectError(t, tempCheckpoint(SRC, encode(JSON.stringify(l.header), l.data)), /tensors "ln_f\.(weight|bias)" .* and "ln_f\.(weight|bias)" .* overlap/);
});

test('an unknown dtype is refused with the list of known ones', (t) => {
  const l = layout(tensors()); (l.header['wpe.weight'] as { dtype: string }).dtype = 'Q4_K';
  expectError(t, tempCheckpoint(SRC, encode(JSON.stringify(l.header), l.data)), /tensor "wpe\.weight": unsupported dtype "Q4_K" \(expected one of F64, F32/);
});

test('a non-float dtype for a weight is refused', (t) => {
  const l = layout(tensors()); (l.header['wpe.weight'] as { dtype: string }).dtype = 'I32';
  expectError(t, tempCheckpoint(SRC, encode(JSON.stringify(l.header), l.data)), /tensor "wpe\.weight": unsupported dtype I32 \(expected F32, F16 or BF16\)/);
});

test('truncated data is refused, not read past the end', (t) => {
  const full = build(tensors());
  expectError(t, tempCheckpoint(SRC, full.subarray(0, full.length - 100)), /data ends at byte \d+ .* \(truncated file\?\)/);
});

test('a missing config field is named', (t) => {
  const c = config(); delete c.n_head;
  expectError(t, tempCheckpoint(SRC, build(tensors()), c), /missing config field "n_head"/, 'config.json');
});

test('a config field of the wrong type names field and value', (t) => {
  const c = config(); c.n_embd = '32';
  expectError(t, tempCheckpoint(SRC, build(tensors()), c), /config field "n_embd" must be an integer in \[1, 65536\], got "32"/, 'config.json');
});

test('invalid config.json and a missing weights file are reported', (t) => {
  expectError(t, tempCheckpoint(SRC, build(tensors()), '{"n_layer": 2,'), /invalid JSON/, 'config.json');
  const e = t.throws(() => loadCheckpoint(tempCheckpoint(SRC, null)), { instanceOf: CheckpointError });
  t.regex(e!.message, /no model\.safetensors or model\.safetensors\.index\.json/);
});

test('a file too short for a header is refused', (t) => {
  expectError(t, tempCheckpoint(SRC, Buffer.from([1, 2, 3])), /file is 3 bytes, too short for a safetensors header/);
});

test('NaN or infinite weights are refused at load, naming the tensor, the element and the file (F32, F16, BF16)', (t) => {
  const exact = (dir: string, detail: string) => {
    const e = t.throws(() => loadCheckpoint(dir), { instanceOf: CheckpointError });
    t.is(e?.message, `${join(dir, 'model.safetensors')}: ${detail}; NaN or infinite weights make every output meaningless ` +
      '(greedy picks token 0, log-probs are NaN), so this checkpoint is refused');
  };
  // F32: one NaN at [3, 17] of a [32, 96] matrix
  let ts = tensors();
  const w = ts.get('h.1.attn.c_attn.weight')!;
  const f32 = new Float32Array(Uint8Array.from(w.data).buffer);
  f32[3 * 96 + 17] = NaN;
  ts.set('h.1.attn.c_attn.weight', { ...w, data: Buffer.from(f32.buffer) });
  exact(tempCheckpoint(SRC, build(ts)), 'tensor "h.1.attn.c_attn.weight": element [3, 17] is NaN');
  // F16 +Inf (0x7c00) and BF16 -Inf (0xff80) among ones
  const half = (one: number, bad: number, at: number) => {
    const u = new Uint16Array(32).fill(one);
    u[at] = bad;
    return Buffer.from(u.buffer);
  };
  ts = tensors();
  ts.set('ln_f.bias', { dtype: 'F16', shape: [32], data: half(0x3c00, 0x7c00, 5) });
  exact(tempCheckpoint(SRC, build(ts)), 'tensor "ln_f.bias": element [5] is Infinity');
  ts = tensors();
  ts.set('h.0.ln_1.weight', { dtype: 'BF16', shape: [32], data: half(0x3f80, 0xff80, 31) });
  exact(tempCheckpoint(SRC, build(ts)), 'tensor "h.0.ln_1.weight": element [31] is -Infinity');
  // the largest finite values pass
  ts = tensors();
  ts.set('ln_f.bias', { dtype: 'F16', shape: [32], data: half(0x3c00, 0x7bff, 5) });
  t.notThrows(() => loadCheckpoint(tempCheckpoint(SRC, build(ts))));
});

test('with int8 weights, NaN or infinite values in a table quantized as read (F32, F16, BF16) are refused the same way', (t) => {
  const ts = tensors(), wte = ts.get('wte.weight')!, [V, C] = wte.shape, f32 = new Float32Array(Uint8Array.from(wte.data).buffer);
  const as16 = (kind: 'F16' | 'BF16', bad: number, at: number) => {
    const u = new Uint16Array(V * C).fill(kind === 'F16' ? 0x3c00 : 0x3f80);
    u[at] = bad;
    return { dtype: kind, shape: [V, C], data: Buffer.from(u.buffer) };
  };
  const refused = (tensor: RawTensor, detail: string) => {
    const m = new Map(ts); m.set('wte.weight', tensor);
    const dir = tempCheckpoint(SRC, build(m));
    const e = t.throws(() => loadCheckpoint(dir, undefined, 'q8'), { instanceOf: CheckpointError });
    t.is(e?.message, `${join(dir, 'model.safetensors')}: tensor "wte.weight": ${detail}; NaN or infinite weights make every output ` +
      'meaningless (greedy picks token 0, log-probs are NaN), so this checkpoint is refused');
  };
  f32[7 * C + 2] = -Infinity;
  refused({ ...wte, data: Buffer.from(f32.buffer) }, 'element [7, 2] is -Infinity');
  refused(as16('F16', 0x7e00, (V - 1) * C + 5), `element [${V - 1}, 5] is NaN`);
  refused(as16('BF16', 0x7f80, 3 * C), 'element [3, 0] is Infinity');
  // a Conv1D weight [in, out], quantized a band of 32 rows at a time: the index in its own shape
  const fc = ts.get('h.1.mlp.c_fc.weight')!, [I, O] = fc.shape, u = new Uint16Array(I * O).fill(0x3c00);
  u[(I - 1) * O + 3] = 0x7c00;
  const m = new Map(ts); m.set('h.1.mlp.c_fc.weight', { dtype: 'F16', shape: [I, O], data: Buffer.from(u.buffer) });
  const dir = tempCheckpoint(SRC, build(m)), e = t.throws(() => loadCheckpoint(dir, undefined, 'q8'), { instanceOf: CheckpointError });
  t.regex(e!.message, new RegExp(`tensor "h\\.1\\.mlp\\.c_fc\\.weight": element \\[${I - 1}, 3\\] is Infinity; NaN or infinite weights`));
});

test('16-bit weights held in their own type (copied as read) refuse NaN or infinite values the same way', (t) => {
  const ts = tensors(), w = ts.get('h.1.mlp.c_fc.weight')!, n = w.shape[0] * w.shape[1];
  for (const [dtype, format, one, bad, value] of [['F16', 'f16', 0x3c00, 0xfc00, '-Infinity'], ['BF16', 'bf16', 0x3f80, 0x7fc0, 'NaN']] as const) {
    const u = new Uint16Array(n).fill(one);
    u[n - 1] = bad;
    const m = new Map(ts); m.set('h.1.mlp.c_fc.weight', { dtype, shape: w.shape, data: Buffer.from(u.buffer) });
    const dir = tempCheckpoint(SRC, build(m));
    const e = t.throws(() => loadCheckpoint(dir, undefined, format), { instanceOf: CheckpointError });
    t.is(e?.message, `${join(dir, 'model.safetensors')}: tensor "h.1.mlp.c_fc.weight": element [${w.shape[0] - 1}, ${w.shape[1] - 1}] is ${value}; ` +
      'NaN or infinite weights make every output meaningless (greedy picks token 0, log-probs are NaN), so this checkpoint is refused');
  }
});
