// Activation memory as a table (llm.c malloc_and_point_activations): sized once for the largest
// micro-batch (T rows, M of them needing logits) and laid out in SharedArrayBuffers. Nothing is
// allocated inside the step loop.
//
// A BatchSlot is what travels between pipeline stages: the flat ragged batch (ggml gpt2_batch)
// plus the residual stream and the logits. Scratch is private to one thread, except the two
// activations that the ranks of a tensor-parallel stage write in parts and all read (att, fc):
// those live in the slot (SlotSpec.sharedActivations), since a slot is in one stage at a time.
//
// Legend: T = max rows per micro-batch, M = max rows needing logits, C = hidden, I = MLP width,
// W = q|k|v width, QD = NH·D, V = vocab_size, P = vocabulary parts of the head (scratch: context
// length), K = micro-batch slots.
import { qkvDims, type ModelConfig } from './config.js';

export interface BatchSlot extends Activations { // att, fc: zero-length unless SlotSpec.sharedActivations
  header: Int32Array;      // [8] see pipeline/protocol.ts (step id, stage progress, barrier)
  tokens: Int32Array;      // [T]
  positions: Int32Array;   // [T]
  seqIds: Int32Array;      // [T] sequence slot = row of the block table
  slots: Int32Array;       // [T] KV cache slot of each row
  needsLogits: Uint8Array; // [T]
  logitRows: Int32Array;   // [M] batch row of each logits row
  x: Float32Array;         // [T, C] residual stream
  logits: Float32Array;    // [M, V]
  argIdx: Int32Array;      // [P, M] per vocabulary part of the head: first index of each row's max ...
  argMax: Float32Array;    // [P, M] ... and that max (greedy rows read these, not the whole row)
}

/** The activations a tensor-parallel stage shares (each rank writes its columns, all read all). */
export interface Activations {
  att: Float32Array;       // [T, QD] attention output before the o projection
  fc: Float32Array;        // [T, I] MLP activation (input of the down projection)
}

export interface Scratch extends Activations {
  h: Float32Array;         // [T, C] norm output
  qkv: Float32Array;       // [T, W]
  gu: Float32Array;        // [T, 2I] SwiGLU gate|up (empty for GELU models); a rank reads only its own columns
  proj: Float32Array;      // [T, C] o / down projection output
  headIn: Float32Array;    // [M, C] ln_f output of the rows that sample
  scratch: Float32Array;   // [P] attention scores of one row and head
  xq: Int8Array;           // [T, X] an int8 linear's input rows, quantized once for all its weight blocks ...
  xd: Float32Array;        // [T, X / 32] ... and their block scales (X = max(C, QD, I), rounded up to 32)
}

export type Workspace = BatchSlot & Scratch & { maxTokens: number; maxLogitRows: number };

type Kind = 'i32' | 'u8' | 'i8' | 'f32';
type Table<K> = Array<[K, Kind, number]>;

function layOut<K extends string>(table: Table<K>, buffer: SharedArrayBuffer | null, base = 0): { views: Record<K, unknown>; bytes: number } {
  const size = (k: Kind, n: number) => Math.ceil(((k === 'u8' || k === 'i8' ? 1 : 4) * n) / 64) * 64;
  const view = (k: Kind, off: number, n: number) => k === 'i32' ? new Int32Array(buffer!, off, n) : k === 'u8' ? new Uint8Array(buffer!, off, n)
    : k === 'i8' ? new Int8Array(buffer!, off, n) : new Float32Array(buffer!, off, n);
  const views = {} as Record<K, unknown>;
  let off = base;
  for (const [name, k, n] of table) {
    if (buffer) views[name] = view(k, off, n);
    off += size(k, n);
  }
  return { views, bytes: off - base };
}

function activationTable(c: ModelConfig, T: number): Table<keyof Activations> {
  return [['att', 'f32', T * qkvDims(c).q], ['fc', 'f32', T * c.nInner]];
}

function slotTable(c: ModelConfig, s: SlotSpec): Table<keyof BatchSlot> {
  const T = s.maxTokens, M = s.maxLogitRows;
  return [
    ['header', 'i32', 8], ['tokens', 'i32', T], ['positions', 'i32', T], ['seqIds', 'i32', T], ['slots', 'i32', T],
    ['logitRows', 'i32', M], ['needsLogits', 'u8', T], ['x', 'f32', T * c.nEmbd], ['logits', 'f32', M * c.vocabSize],
    ['argIdx', 'i32', (s.headParts ?? 1) * M], ['argMax', 'f32', (s.headParts ?? 1) * M],
    ...activationTable(c, s.sharedActivations ? T : 0),
  ];
}

export interface SlotSpec {
  maxTokens: number;
  maxLogitRows: number;
  count: number;
  sharedActivations?: boolean; // lay out Activations in each slot (for tensor-parallel stages)
  headParts?: number;          // P: vocabulary parts the head is computed in (shards or ranks; default 1)
}

/** Bytes of K batch slots, laid out back to back in one SharedArrayBuffer. */
export function batchSlotsBytes(c: ModelConfig, s: SlotSpec): number {
  return s.count * layOut(slotTable(c, s), null).bytes;
}

/** Views of the K batch slots in `buffer` (allocated when not given). */
export function viewBatchSlots(c: ModelConfig, s: SlotSpec, buffer = new SharedArrayBuffer(batchSlotsBytes(c, s))): { buffer: SharedArrayBuffer; slots: BatchSlot[] } {
  const table = slotTable(c, s), one = layOut(table, null).bytes;
  const slots = Array.from({ length: s.count }, (_, k) => layOut(table, buffer, k * one).views as unknown as BatchSlot);
  return { buffer, slots };
}

/** One thread's scratch; without `activations`, att and fc are zero-length (the slot's shared ones are used). */
function scratchTable(c: ModelConfig, T: number, M: number, activations: boolean): Table<keyof Scratch> {
  const C = c.nEmbd, X = Math.ceil(Math.max(C, qkvDims(c).q, c.nInner) / 32) * 32;
  return [
    ['h', 'f32', T * C], ['qkv', 'f32', T * qkvDims(c).width], ['gu', 'f32', c.mlp === 'swiglu' ? T * 2 * c.nInner : 0],
    ['proj', 'f32', T * C], ...activationTable(c, activations ? T : 0),
    ['headIn', 'f32', M * C],
    ['scratch', 'f32', c.nPositions],
    ['xq', 'i8', T * X], ['xd', 'f32', (T * X) / 32], // pages an f32 or 16-bit model never touches stay unallocated
  ];
}

export function allocScratch(c: ModelConfig, T: number, M: number, activations = true): Scratch {
  const table = scratchTable(c, T, M, activations);
  const buffer = new SharedArrayBuffer(layOut(table, null).bytes);
  return layOut(table, buffer).views as unknown as Scratch;
}

/** A single-threaded workspace: one batch slot plus scratch. */
export function allocWorkspace(c: ModelConfig, maxTokens: number, maxLogitRows: number): Workspace {
  const { slots } = viewBatchSlots(c, { maxTokens, maxLogitRows, count: 1 });
  return { ...slots[0], ...allocScratch(c, maxTokens, maxLogitRows), maxTokens, maxLogitRows };
}

/** A worker's workspace on one slot: the slot and its private scratch, but the slot's att and fc when they are shared. */
export function workspaceOf(slot: BatchSlot, scratch: Scratch, maxTokens: number, maxLogitRows: number, sharedActivations = false): Workspace {
  return { ...slot, ...scratch, ...(sharedActivations ? { att: slot.att, fc: slot.fc } : {}), maxTokens, maxLogitRows };
}

/** Bytes of one thread's scratch (allocScratch with the same arguments). */
export function scratchBytes(c: ModelConfig, T: number, M: number, activations = true): number {
  return layOut(scratchTable(c, T, M, activations), null).bytes;
}
