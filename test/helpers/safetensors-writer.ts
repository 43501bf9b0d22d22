// A minimal safetensors reader/writer for building broken checkpoints in tests (independent of src/).
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.js';

export interface RawTensor { dtype: string; shape: number[]; data: Buffer }

export function readRaw(path: string): Map<string, RawTensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, RawTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: e.dtype, shape: e.shape, data: buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  }
  return out;
}

/** Header object and data for tensors laid out back to back. */
export function layout(tensors: Map<string, RawTensor>): { header: Record<string, unknown>; data: Buffer } {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.length] };
    off += t.data.length;
  }
  return { header, data: Buffer.concat([...tensors.values()].map((t) => t.data)) };
}

export function encode(headerText: string, data: Buffer, headerLen = Buffer.byteLength(headerText)): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLen));
  return Buffer.concat([len, Buffer.from(headerText), data]);
}

/** A temp checkpoint dir: the given config.json (or the source one) and a model.safetensors from bytes. */
export function tempCheckpoint(srcDir: string, file: Buffer | null, config?: unknown): string {
  const dir = tempDir('bad');
  if (config === undefined) copyFileSync(join(srcDir, 'config.json'), join(dir, 'config.json'));
  else writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (file) writeFileSync(join(dir, 'model.safetensors'), file);
  return dir;
}
