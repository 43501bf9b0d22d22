// A safetensors reader that trusts nothing in the file: the header length, the JSON, every dtype,
// shape and data offset are checked against the file before a byte of tensor data is read.
// Format: u64 LE header length N | N bytes of JSON | data. Offsets are relative to the data start.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from '../errors.js';
import { q8Blocks, type Kind16 } from '../kernels/quant.js';
import { firstNonFinite, firstNonFinite16, quantizeColsBand, quantizeRowsFrom, widen16Into, type SrcKind } from './load-convert.js';

/** Bytes per element of every dtype safetensors defines; only F32/F16/BF16 can be model weights. */
const ITEM_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};
export const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
/** 100 MB of header JSON is far beyond any real checkpoint (gpt2-xl's is ~40 KB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;       // as written in the file
  dtype: string;
  shape: number[];
  begin: number;      // absolute byte offset in the file
  byteLength: number;
}

export interface SafetensorsFile {
  path: string;
  tensors: Map<string, TensorInfo>;
}

function readExactly(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new CheckpointError(path, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function parseEntry(path: string, name: string, v: unknown, dataLen: number): TensorInfo & { end: number } {
  const bad = (what: string) => new CheckpointError(path, `tensor "${name}": ${what}`);
  if (typeof v !== 'object' || v === null) throw bad(`header entry must be an object, got ${JSON.stringify(v)}`);
  const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) {
    throw bad(`unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(ITEM_SIZE).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
    throw bad(`data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(off)}`);
  }
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const byteLength = numel * ITEM_SIZE[dtype];
  const [b, e] = off as [number, number];
  if (e - b !== byteLength) {
    throw bad(`data_offsets [${b}, ${e}] span ${e - b} bytes but ${dtype} ${JSON.stringify(shape)} needs ${byteLength}`);
  }
  if (e > dataLen) {
    throw bad(`data ends at byte ${e} of the data section but the file holds only ${dataLen} bytes of data (truncated file?)`);
  }
  return { name, dtype, shape: shape as number[], begin: b, byteLength, end: e };
}

/** Reads and validates the header; tensor data is read later, on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CheckpointError(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw new CheckpointError(path, `file is ${fileSize} bytes, too short for a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    readExactly(fd, lenBuf, 0, path);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES) {
      throw new CheckpointError(path, `header length ${headerLen} bytes is absurdly large (limit ${MAX_HEADER_BYTES})`);
    }
    if (8 + headerLen > fileSize) {
      throw new CheckpointError(path, `header length ${headerLen} runs past the end of the ${fileSize}-byte file`);
    }
    const headerBuf = Buffer.alloc(headerLen);
    readExactly(fd, headerBuf, 8, path);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch (e) {
      throw new CheckpointError(path, `invalid header JSON: ${(e as Error).message}`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new CheckpointError(path, 'header JSON must be an object of tensor entries');
    }
    const dataStart = 8 + headerLen;
    const dataLen = fileSize - dataStart;
    const parsed = Object.entries(header)
      .filter(([name]) => name !== '__metadata__')
      .map(([name, v]) => parseEntry(path, name, v, dataLen));
    checkNoOverlap(path, parsed);
    const tensors = new Map<string, TensorInfo>();
    for (const t of parsed) tensors.set(t.name, { ...t, begin: dataStart + t.begin });
    return { path, tensors };
  } finally {
    closeSync(fd);
  }
}

function checkNoOverlap(path: string, entries: Array<{ name: string; begin: number; end: number }>): void {
  const sorted = entries.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new CheckpointError(path, `tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${cur.name}" [${cur.begin}, ${cur.end}) overlap in the data section`);
    }
  }
}

const CHUNK_BYTES = 1 << 22; // read 4 MiB at a time: a gpt2-xl wte never sits in memory twice, and the buffer (kept for the next load) stays small in the RSS
// one read buffer for every tensor: a fresh one per tensor cost its page faults each time
let chunkBuf: ArrayBuffer | null = null;

/**
 * Reads a float tensor into `out` as f32, converting F16/BF16 on the way; with `start`, only the
 * elements [start, start + out.length) (a band of rows, for tables converted a band at a time).
 */
export function readTensorF32(file: SafetensorsFile, t: TensorInfo, out: Float32Array, start?: number): void {
  const item = itemSize(file, t), total = t.byteLength / item;
  if (start === undefined ? total !== out.length : start < 0 || start + out.length > total) {
    throw new CheckpointError(file.path, `tensor "${t.name}": ${total} elements, expected ${start === undefined ? out.length : `at least ${(start ?? 0) + out.length}`}`);
  }
  eachChunk(file, t, (start ?? 0) * item, out.length * item, item, CHUNK_BYTES, (chunk, n, done) => {
    convertChunk(t.dtype, chunk, n, out, done / item);
    const bad = firstNonFinite(out, done / item, (done + n) / item);
    if (bad >= 0) throw nonFinite(file, t, bad + (start ?? 0), out[bad]);
  });
}

/**
 * Quantizes the rows of a 2-D float tensor [O, I] into q8 rows wq [O, I], ws [O, ceil(I/32)] a
 * chunk of whole rows at a time (quantizeRowsFrom): 16-bit rows are quantized as read, never
 * through an f32 copy.
 */
export function readTensorQ8Rows(file: SafetensorsFile, t: TensorInfo, wq: Int8Array, ws: Float32Array, chunkBytes = CHUNK_BYTES): void {
  const item = itemSize(file, t), [O, I] = t.shape, nb = q8Blocks(I);
  if (t.shape.length !== 2 || wq.length !== O * I || ws.length !== O * nb) {
    throw new CheckpointError(file.path, `tensor "${t.name}": shape [${t.shape}] does not match its q8 table of ${wq.length} values`);
  }
  eachChunk(file, t, 0, t.byteLength, I * item, chunkBytes, (chunk, n, done) => {
    const r0 = done / (I * item), rows = n / (I * item);
    const q = wq.subarray(r0 * I, (r0 + rows) * I), s = ws.subarray(r0 * nb, (r0 + rows) * nb);
    const src = values(t, chunk, n), bad = quantizeRowsFrom(q, s, src, srcKind(t), I, rows);
    if (bad >= 0) throw nonFinite(file, t, r0 * I + bad, valueAt(t, src, bad));
  });
}

/**
 * Quantizes a 2-D float tensor [I, O] (a Conv1D weight, [in, out]) into the q8 rows of its columns,
 * wq [O, I], ws [O, ceil(I/32)], a chunk of whole 32-row blocks at a time (quantizeColsBand): the
 * bytes of quantizeRowsFrom on its transpose, with no f32 copy of it.
 */
export function readTensorQ8Cols(file: SafetensorsFile, t: TensorInfo, wq: Int8Array, ws: Float32Array): void {
  const item = itemSize(file, t), [I, O] = t.shape, nb = q8Blocks(I);
  if (t.shape.length !== 2 || wq.length !== O * I || ws.length !== O * nb) {
    throw new CheckpointError(file.path, `tensor "${t.name}": shape [${t.shape}] does not match its q8 table of ${wq.length} values`);
  }
  eachChunk(file, t, 0, t.byteLength, 32 * O * item, CHUNK_BYTES, (chunk, n, done) => {
    const i0 = done / (O * item), src = values(t, chunk, n), bad = quantizeColsBand(wq, ws, src, srcKind(t), I, O, i0);
    if (bad >= 0) throw nonFinite(file, t, i0 * O + bad, valueAt(t, src, bad));
  });
}

/**
 * Reads an F16 or BF16 tensor's values as they are, a chunk of whole rows of `rowLen` values at a
 * time: use(h, at) gets the values from flat index `at` on (a view of the shared chunk buffer,
 * valid during the call). NaN and ±Infinity are refused as readTensorF32 refuses them.
 */
export function readTensor16(file: SafetensorsFile, t: TensorInfo, rowLen: number, use: (h: Uint16Array, at: number) => void): void {
  if (t.dtype !== 'F16' && t.dtype !== 'BF16') throw new CheckpointError(file.path, `tensor "${t.name}": ${t.dtype}, expected F16 or BF16`);
  const kind = kind16(t);
  eachChunk(file, t, 0, t.byteLength, rowLen * 2, CHUNK_BYTES, (chunk, n, done) => {
    const h = new Uint16Array(chunk, 0, n / 2), bad = firstNonFinite16(h, kind);
    if (bad >= 0) throw nonFinite(file, t, done / 2 + bad, widenOne(h[bad], kind));
    use(h, done / 2);
  });
}

function itemSize(file: SafetensorsFile, t: TensorInfo): number {
  if (!FLOAT_DTYPES.has(t.dtype)) {
    throw new CheckpointError(file.path, `tensor "${t.name}": unsupported dtype ${t.dtype} for a weight (expected F32, F16 or BF16)`);
  }
  return ITEM_SIZE[t.dtype];
}

/** Reads bytes [first, first + bytes) of t's data through the shared chunk buffer, up to `size` bytes (whole units of `unit`) a chunk. */
function eachChunk(file: SafetensorsFile, t: TensorInfo, first: number, bytes: number, unit: number, size: number,
  use: (chunk: ArrayBuffer, n: number, done: number) => void): void {
  const step = Math.max(unit, size - (size % unit));
  if (chunkBuf === null || chunkBuf.byteLength < step) chunkBuf = new ArrayBuffer(step);
  const chunk = new Uint8Array(chunkBuf);
  const fd = openSync(file.path, 'r');
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(step, bytes - done);
      readExactly(fd, chunk.subarray(0, n), t.begin + first + done, file.path);
      use(chunk.buffer, n, done);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The 16-bit type of an F16 / BF16 tensor. */
const kind16 = (t: TensorInfo): Kind16 => (t.dtype === 'F16' ? 'f16' : 'bf16');
const srcKind = (t: TensorInfo): SrcKind => (t.dtype === 'F32' ? 'f32' : kind16(t));
/** The first n bytes of a chunk of t's data as its values. */
const values = (t: TensorInfo, chunk: ArrayBuffer, n: number): Float32Array | Uint16Array =>
  (t.dtype === 'F32' ? new Float32Array(chunk, 0, n / 4) : new Uint16Array(chunk, 0, n / 2));
/** Value k of `values` as a number (for messages). */
const valueAt = (t: TensorInfo, v: Float32Array | Uint16Array, k: number): number => (v instanceof Float32Array ? v[k] : widenOne(v[k], kind16(t)));

/** The f32 value of one 16-bit pattern (for messages). */
function widenOne(h: number, kind: Kind16): number {
  const one = new Float32Array(1);
  widen16Into(one, Uint16Array.of(h), kind);
  return one[0];
}

function nonFinite(file: SafetensorsFile, t: TensorInfo, flat: number, value: number): CheckpointError {
  return new CheckpointError(file.path, `tensor "${t.name}": element ${elementIndex(flat, t.shape)} is ${value}; ` +
    'NaN or infinite weights make every output meaningless (greedy picks token 0, log-probs are NaN), so this checkpoint is refused');
}

/** A flat index as [i, j, ...] in the tensor's shape. */
function elementIndex(flat: number, shape: number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

function convertChunk(dtype: string, buf: ArrayBuffer, nBytes: number, out: Float32Array, at: number): void {
  if (dtype === 'F32') out.set(new Float32Array(buf, 0, nBytes / 4), at);
  else widen16Into(out.subarray(at, at + nBytes / 2), new Uint16Array(buf, 0, nBytes / 2), dtype === 'F16' ? 'f16' : 'bf16');
}
