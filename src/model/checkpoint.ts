// Loads a Hugging Face model directory (config.json + model.safetensors, or shards listed in
// model.safetensors.index.json) into the SharedArrayBuffer laid out by param-layout.ts.
// Only the tensors of the requested stage are read, so a pipeline stage loads only its layers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { readModelConfig, type ModelConfig } from './config.js';
import { canonicalName, checkpointTensors, ignoredTensor, type TensorTarget } from './checkpoint-names.js';
import { q8Blocks } from '../kernels/quant.js';
import { narrow16Into, transposeInto } from './load-convert.js';
import { allocParams, fullModelStage, linearShapes, planParams, type ModelWeights, type StageSpec } from './param-layout.js';
import type { WeightFormat, WeightStore } from './weight-format.js';
import { fillRopeTables } from './rope.js';
import { fixMallocThreshold } from '../kernels/native/huge-pages.js';
import { FLOAT_DTYPES, openSafetensors, readTensor16, readTensorF32, readTensorQ8Cols, readTensorQ8Rows, type SafetensorsFile, type TensorInfo } from './safetensors.js';

export interface TensorSource { file: SafetensorsFile; info: TensorInfo }

export interface CheckpointIndex {
  dir: string;
  config: ModelConfig;
  files: string[];
  /** canonical name (checkpoint-names.ts) → where its data lives */
  tensors: Map<string, TensorSource>;
  /** bytes of weight data on disk, per dtype */
  dtypes: Record<string, number>;
}

function shardFiles(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) return [single];
  if (!existsSync(indexPath)) {
    throw new CheckpointError(dir, 'no model.safetensors or model.safetensors.index.json (pytorch_model.bin is not supported; convert it to safetensors)');
  }
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(indexPath, `invalid JSON: ${(e as Error).message}`);
  }
  const map = (index as { weight_map?: unknown })?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new CheckpointError(indexPath, 'missing "weight_map" object');
  }
  const names = new Set<string>();
  for (const [tensor, f] of Object.entries(map)) {
    if (typeof f !== 'string' || f.includes('/') || f.includes('\\') || !f.endsWith('.safetensors')) {
      throw new CheckpointError(indexPath, `weight_map["${tensor}"] must name a .safetensors file in the same directory, got ${JSON.stringify(f)}`);
    }
    names.add(f);
  }
  return [...names].sort().map((f) => {
    const p = join(dir, f);
    if (!existsSync(p)) throw new CheckpointError(indexPath, `lists shard "${f}", which does not exist in ${dir}`);
    return p;
  });
}

/** Reads config.json and every safetensors header; checks names, dtypes and shapes. Reads no tensor data. */
export function indexCheckpoint(dir: string): CheckpointIndex {
  const config = readModelConfig(join(dir, 'config.json'));
  const files = shardFiles(dir);
  const expected = checkpointTensors(config);
  const tensors = new Map<string, TensorSource>();
  const dtypes: Record<string, number> = {};
  for (const path of files) {
    const file = openSafetensors(path);
    for (const info of file.tensors.values()) {
      const name = canonicalName(config, info.name);
      if (ignoredTensor(config, name)) continue;
      const target = expected.get(name);
      if (!target) throw new CheckpointError(path, `unexpected tensor "${info.name}" (not part of a ${config.family} model with ${config.nLayer} layers)`);
      if (tensors.has(name)) {
        throw new CheckpointError(path, `tensor "${info.name}" appears twice (also in ${tensors.get(name)!.file.path})`);
      }
      if (!FLOAT_DTYPES.has(info.dtype)) {
        throw new CheckpointError(path, `tensor "${info.name}": unsupported dtype ${info.dtype} (expected F32, F16 or BF16)`);
      }
      if (target.shape.join(',') !== info.shape.join(',')) {
        throw new CheckpointError(path, `tensor "${info.name}" has shape [${info.shape}] but config.json implies [${target.shape}]`);
      }
      tensors.set(name, { file, info });
      dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + info.byteLength;
    }
  }
  for (const [name, target] of expected) {
    if (!tensors.has(name)) {
      throw new CheckpointError(files.length === 1 ? files[0] : dir, `missing tensor "${name}" (expected shape [${target.shape}])`);
    }
  }
  return { dir, config, files, tensors, dtypes };
}

/** Loads the stage's tensors (all of them by default) into one SharedArrayBuffer; linear weights in `format`. */
export function loadCheckpoint(dir: string, stage?: StageSpec, format: WeightFormat = 'f32'): ModelWeights {
  return loadIndexed(indexCheckpoint(dir), stage, format);
}

/** loadCheckpoint for a checkpoint already indexed (its headers checked). */
export function loadIndexed(index: CheckpointIndex, stage?: StageSpec, format: WeightFormat = 'f32'): ModelWeights {
  const c = index.config, layout = planParams(c, stage ?? fullModelStage(c), format);
  fixMallocThreshold(); // the read buffers below go back to the OS when freed
  const weights = allocParams(layout);
  const f32 = new Map(layout.entries.filter((e) => e.type === 'f32').map((e) => [e.name, new Float32Array(weights.buffer, e.offset, e.size)]));
  const ckpt = checkpointTensors(c, layout.stage.layerStart, layout.stage.layerEnd, true);
  const linears = new Map<string, Linear>();
  const shapes = linearShapes(c);
  weights.layers.forEach((lw, i) => {
    for (const key of ['qkv', 'o', 'up', 'down'] as const) {
      linears.set(`L${layout.stage.layerStart + i}.${key}.w`, { store: lw[key], I: shapes[key][0], O: shapes[key][1], tmp: null, left: 0, raw16: DTYPE16[lw[key].kind] !== undefined });
    }
  });
  for (const [name, t] of ckpt) {
    const lin = linears.get(t.entry);
    if (!lin) continue;
    lin.left++;
    lin.raw16 &&= index.tensors.get(name)!.info.dtype === DTYPE16[lin.store.kind];
  }
  const pool = new TempPool(Math.max(0, ...[...linears.values()].map((l) => l.I * l.O)));
  for (const [name, t] of ckpt) {
    const lin = linears.get(t.entry), dest = f32.get(t.entry);
    if (lin) loadLinearPiece(index.tensors.get(name)!, t, lin, pool);
    else if (dest) place(index.tensors.get(name)!, t, dest, 0, pool); // norms, biases, embeddings: never transposed
    // else: another stage's tensor, or a q8 row table (below)
  }
  // q8 row tables: the token embedding (a tied head reads the same rows) and an untied lm_head
  for (const [entry, table] of [['wte', weights.wte], ['lm_head', c.tied ? null : weights.head]] as const) {
    if (table?.kind === 'q8') quantizeRows(index, [...ckpt].find(([, t]) => t.entry === entry)!, table);
  }
  if (weights.rope) fillRopeTables(c, weights.rope.cos, weights.rope.sin);
  return weights;
}

/** A [V, C] checkpoint table quantized into q8 rows a chunk of rows at a time (16 MiB of the file; `chunkBytes`
 *  for tests): never an f32 copy of the whole table (GPT-2 small: 154 MB; Llama 3.2 1B's untied embedding: 1 GB) in the peak RSS. */
export function quantizeRows(index: CheckpointIndex, [name]: [string, TensorTarget], table: { q: Int8Array; s: Float32Array }, chunkBytes?: number): void {
  const src = index.tensors.get(name)!;
  readTensorQ8Rows(src.file, src.info, table.q, table.s, chunkBytes);
}

/**
 * A linear weight being loaded: its store, [I, O], the f32 [I, O] being assembled, pieces to come;
 * `raw16`: held in 16 bits and every piece in that same type, so pieces are copied as read.
 */
interface Linear { store: WeightStore; I: number; O: number; tmp: Float32Array | null; left: number; raw16: boolean }

/** The checkpoint dtype whose values a 16-bit store holds as they are. */
const DTYPE16: Partial<Record<WeightStore['kind'], string>> = { bf16: 'BF16', f16: 'F16' };

/**
 * f32 temporaries of one size (the largest linear), reused, for what is still assembled in f32:
 * transposed nn.Linear pieces of f32 linears, and 16-bit linears whose pieces come in another type.
 * A fresh one per linear meant ~0.3 GB of first-touch page faults (GPT-2 small, when its int8
 * linears went through f32).
 */
class TempPool {
  private spare: Float32Array[] = [];
  constructor(private readonly size: number) {}
  take(n: number): Float32Array { return (this.spare.pop() ?? new Float32Array(this.size)).subarray(0, n); }
  give(a: Float32Array): void { this.spare.push(new Float32Array(a.buffer, a.byteOffset, this.size)); }
}

/**
 * One checkpoint piece of a linear. One held as q8 is quantized from the file a chunk at a time: an
 * nn.Linear piece [out, in] is already in q8's row order (its rows are q8 rows col.. col + out), a
 * Conv1D piece [in, out] a band of 32-row blocks of those columns at a time. A linear
 * held in its pieces' own 16-bit type takes them as read (transposed in 16 bits, which is exact;
 * no f32 on the way: SmolLM2-360M's F16 weights as f16, loadCheckpoint ~1.0 → ~0.6 s). Otherwise
 * the linear is assembled in f32 [I, O] (straight into the buffer when it is held as f32) and
 * converted when its last piece is in, so at most one assembled temporary exists at a time.
 */
function loadLinearPiece(src: TensorSource, t: TensorTarget, lin: Linear, pool: TempPool): void {
  const { store } = lin;
  if (lin.raw16 && (store.kind === 'bf16' || store.kind === 'f16')) { place16(src, t, store.w, lin.O); return; }
  if (store.kind === 'q8') {  // columns [col, col + out) of [I, O] are q8 rows col.. col + out
    const out = t.transpose ? t.shape[0] : t.shape[1], I = lin.I, nb = q8Blocks(I);
    const q = store.q.subarray(t.col * I, (t.col + out) * I), s = store.s.subarray(t.col * nb, (t.col + out) * nb);
    if (t.transpose) readTensorQ8Rows(src.file, src.info, q, s);
    else readTensorQ8Cols(src.file, src.info, q, s);
    return;
  }
  lin.tmp ??= store.kind === 'f32' ? store.w : pool.take(lin.I * lin.O);
  place(src, t, lin.tmp, lin.O, pool);
  if (--lin.left > 0) return;
  if (store.kind !== 'f32') { narrow16Into(store.w, lin.tmp, store.kind); pool.give(lin.tmp); }
  lin.tmp = null;
}

/** place() for a 16-bit piece into a 16-bit entry of the same type: the values as read. */
function place16(src: TensorSource, t: TensorTarget, dest: Uint16Array, O: number): void {
  const inp = t.shape[1];
  if (!t.transpose) readTensor16(src.file, src.info, 1, (h, at) => dest.set(h, t.col + at));
  else readTensor16(src.file, src.info, inp, (h, at) => transposeInto(dest, h, h.length / inp, inp, O, t.col + at / inp));
}

/** Writes one checkpoint tensor into its entry: whole, at a column offset, or transposed ([out, in] → columns of [in, O]). */
function place(src: TensorSource, t: TensorTarget, dest: Float32Array, O: number, pool: TempPool): void {
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (!t.transpose) { readTensorF32(src.file, src.info, dest.subarray(t.col, t.col + size)); return; }
  const [out, inp] = t.shape, tmp = pool.take(size);
  readTensorF32(src.file, src.info, tmp);
  transposeInto(dest, tmp, out, inp, O, t.col);
  pool.give(tmp);
}
