// Parameter memory as a table (llm.c fill_in_parameter_sizes): one SharedArrayBuffer holds every
// tensor a stage needs, each at a fixed byte offset, read through named typed-array views. The
// table is the same for every family (model/config.ts says which entries exist and how wide);
// where a family's checkpoint tensors go is in checkpoint-names.ts; how the linear weights are
// held (f32, 16-bit, 8-bit blocks) is the layout's WeightFormat (weight-format.ts).
//
// Every linear weight is [I, O] (in × out): q|k|v fused into one [C, W] matrix, gate|up into one
// [C, 2I] (SwiGLU), so one matmul computes each; q8 holds it as rows [O, I] plus block scales.
// The RoPE cos/sin tables are computed at load into the same buffer, so every worker reads the
// same numbers.
//
// Legend: L = layers, C = hidden, W = (NH + 2·NKV)·D, QD = NH·D, I = MLP width, U = I (GELU) or
// 2I (SwiGLU), V = vocab, P = context, D = head width.
import { allocShared } from '../kernels/native/huge-pages.js';
import { q8Blocks } from '../kernels/quant.js';
import { qkvDims, type ModelConfig } from './config.js';
import type { WeightFormat, WeightStore } from './weight-format.js';

export interface StageSpec {
  layerStart: number;  // first layer (inclusive)
  layerEnd: number;    // last layer (exclusive)
  embeddings: boolean; // wte (+ wpe) for the input side
  head: boolean;       // final norm + LM head for the output side
}

export type ElemType = 'f32' | 'u16' | 'i8';

export interface LayoutEntry {
  name: string;     // internal name, e.g. "L3.qkv.w" (checkpoint-names.ts maps checkpoint tensors onto it)
  shape: number[];  // of the data as held ([O, I] for a q8 linear)
  type: ElemType;
  offset: number;   // in bytes, from the start of the buffer
  size: number;     // in elements
}

export interface ParamLayout {
  config: ModelConfig;
  stage: StageSpec;
  format: WeightFormat;  // of the linear weights (and, for q8, the LM head)
  entries: LayoutEntry[];
  totalBytes: number;
}

/** A norm's weights: LayerNorm has a bias, RMSNorm none. */
export interface NormWeights { w: Float32Array; b: Float32Array | null }

/** One block's tensors as stored (tensor-parallel stages rewrite f32/16-bit linears as column shards: tensor-parallel.ts). */
export interface LayerWeights {
  norm1: NormWeights;                                  // [C]
  qkv: WeightStore; qkvB: Float32Array | null;         // [C, W], [W]
  qNorm: Float32Array | null; kNorm: Float32Array | null; // [D] (Qwen3)
  o: WeightStore; oB: Float32Array | null;             // [QD, C], [C]
  norm2: NormWeights;                                  // [C]
  up: WeightStore; upB: Float32Array | null;           // [C, U], [U]
  down: WeightStore; downB: Float32Array | null;       // [I, C], [C]
}

/** [V, C] rows (token embedding, LM head): f32, or q8 rows with block scales (int8 weights). */
export type RowTable = { kind: 'f32'; w: Float32Array } | { kind: 'q8'; q: Int8Array; s: Float32Array };

export interface ModelWeights {
  buffer: SharedArrayBuffer;
  layout: ParamLayout;
  wte: RowTable | null;         // [V, C]  token embedding (also the LM head when tied)
  wpe: Float32Array | null;     // [P, C]  learned positions (GPT-2)
  normF: NormWeights | null;    // [C]
  head: RowTable | null;        // the LM head (last stage)
  rope: { cos: Float32Array; sin: Float32Array } | null; // [P, D/2] each
  layers: LayerWeights[];       // layers[l - layerStart]
}

/** [I, O] of each linear of a layer. */
export function linearShapes(c: ModelConfig): Record<'qkv' | 'o' | 'up' | 'down', [number, number]> {
  const { nEmbd: C, nInner: I } = c, { q: QD, width: W } = qkvDims(c);
  return { qkv: [C, W], o: [QD, C], up: [C, c.mlp === 'swiglu' ? 2 * I : I], down: [I, C] };
}

type Wanted = Array<[name: string, shape: number[], type: ElemType]>;

/** Entries of a linear weight [I, O] in a format: one matrix, or q8 rows [O, I] and their scales. */
function linearEntries(name: string, [I, O]: [number, number], format: WeightFormat): Wanted {
  if (format === 'q8') return [[`${name}.w`, [O, I], 'i8'], [`${name}.ws`, [O, q8Blocks(I)], 'f32']];
  return [[`${name}.w`, [I, O], format === 'f32' ? 'f32' : 'u16']];
}

/** Per-layer entries of this family. */
function layerTable(c: ModelConfig, l: number, format: WeightFormat): Wanted {
  const { nEmbd: C, headDim: D } = c, lin = linearShapes(c), L = `L${l}.`, ln = c.norm === 'layernorm';
  const f32 = (has: boolean, name: string, shape: number[]): Wanted => (has ? [[L + name, shape, 'f32']] : []);
  return [
    ...f32(true, 'norm1.w', [C]), ...f32(ln, 'norm1.b', [C]),
    ...linearEntries(`${L}qkv`, lin.qkv, format), ...f32(c.qkvBias, 'qkv.b', [lin.qkv[1]]),
    ...f32(c.qkNorm, 'qnorm', [D]), ...f32(c.qkNorm, 'knorm', [D]),
    ...linearEntries(`${L}o`, lin.o, format), ...f32(c.oBias, 'o.b', [C]),
    ...f32(true, 'norm2.w', [C]), ...f32(ln, 'norm2.b', [C]),
    ...linearEntries(`${L}up`, lin.up, format), ...f32(c.mlpBias, 'up.b', [lin.up[1]]),
    ...linearEntries(`${L}down`, lin.down, format), ...f32(c.mlpBias, 'down.b', [C]),
  ];
}

export function fullModelStage(c: ModelConfig): StageSpec {
  return { layerStart: 0, layerEnd: c.nLayer, embeddings: true, head: true };
}

const ALIGN = 64; // bytes: every tensor starts on a 64-byte boundary (SIMD-friendly)
const BYTES: Record<ElemType, number> = { f32: 4, u16: 2, i8: 1 };

/** The size table: which tensors a stage holds, in which type, and where. */
export function planParams(c: ModelConfig, stage: StageSpec = fullModelStage(c), format: WeightFormat = 'f32'): ParamLayout {
  const { nEmbd: C, vocabSize: V, nPositions: P } = c;
  // with int8 weights the token table is q8 rows too: the lookup dequantizes them (embeddingQ8), and
  // a tied head reads the same bytes (for GPT-2 small that drops a 154 MB f32 copy)
  const q8 = format === 'q8';
  const wanted: Wanted = [];
  if (stage.embeddings || (stage.head && c.tied)) {
    if (q8) wanted.push(['wte.q', [V, C], 'i8'], ['wte.s', [V, q8Blocks(C)], 'f32']);
    else wanted.push(['wte', [V, C], 'f32']);
  }
  if (stage.embeddings && c.positions === 'learned') wanted.push(['wpe', [P, C], 'f32']);
  if (c.positions === 'rope' && stage.layerEnd > stage.layerStart) wanted.push(['rope.cos', [P, c.headDim / 2], 'f32'], ['rope.sin', [P, c.headDim / 2], 'f32']);
  for (let l = stage.layerStart; l < stage.layerEnd; l++) wanted.push(...layerTable(c, l, format));
  if (stage.head) {
    wanted.push(['normf.w', [C], 'f32']);
    if (c.norm === 'layernorm') wanted.push(['normf.b', [C], 'f32']);
    if (!c.tied && q8) wanted.push(['head.q', [V, C], 'i8'], ['head.s', [V, q8Blocks(C)], 'f32']);
    else if (!c.tied) wanted.push(['lm_head', [V, C], 'f32']);
  }
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, shape, type] of wanted) {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, type, offset, size });
    offset += Math.ceil((size * BYTES[type]) / ALIGN) * ALIGN;
  }
  return { config: c, stage, format, entries, totalBytes: offset };
}

function view(buffer: SharedArrayBuffer, e: LayoutEntry): Float32Array | Uint16Array | Int8Array {
  return e.type === 'f32' ? new Float32Array(buffer, e.offset, e.size) : e.type === 'u16' ? new Uint16Array(buffer, e.offset, e.size) : new Int8Array(buffer, e.offset, e.size);
}

/** Named views over an existing buffer (a worker calls this on the SharedArrayBuffer it was sent). */
export function viewParams(layout: ParamLayout, buffer: SharedArrayBuffer): ModelWeights {
  const views = new Map(layout.entries.map((e) => [e.name, view(buffer, e)]));
  const get = (name: string) => (views.get(name) as Float32Array | undefined) ?? null;
  const { format } = layout;
  const store = (name: string): WeightStore => {
    if (format === 'q8') return { kind: 'q8', q: views.get(`${name}.w`) as Int8Array, s: get(`${name}.ws`)! };
    if (format === 'f32') return { kind: 'f32', w: get(`${name}.w`)! };
    return { kind: format, w: views.get(`${name}.w`) as Uint16Array };
  };
  const norm = (p: string): NormWeights | null => (views.has(`${p}.w`) ? { w: get(`${p}.w`)!, b: get(`${p}.b`) } : null);
  const { stage } = layout;
  const layers: LayerWeights[] = [];
  for (let l = stage.layerStart; l < stage.layerEnd; l++) {
    const g = (s: string) => get(`L${l}.${s}`);
    layers.push({
      norm1: norm(`L${l}.norm1`)!, qkv: store(`L${l}.qkv`), qkvB: g('qkv.b'), qNorm: g('qnorm'), kNorm: g('knorm'),
      o: store(`L${l}.o`), oB: g('o.b'), norm2: norm(`L${l}.norm2`)!, up: store(`L${l}.up`), upB: g('up.b'), down: store(`L${l}.down`), downB: g('down.b'),
    });
  }
  const table = (p: string): RowTable | null => views.has(`${p}.q`) ? { kind: 'q8', q: views.get(`${p}.q`) as Int8Array, s: get(`${p}.s`)! }
    : views.has(p) ? { kind: 'f32', w: get(p)! } : null;
  const cos = get('rope.cos'), sin = get('rope.sin'), wte = table('wte');
  const head = !stage.head ? null : layout.config.tied ? wte : table(format === 'q8' ? 'head' : 'lm_head');
  return { buffer, layout, layers, wte, wpe: get('wpe'), normF: norm('normf'), head, rope: cos && sin ? { cos, sin } : null };
}

/** A fresh buffer for the layout (backed by huge pages where possible: see kernels/native/huge-pages.ts). */
export function allocParams(layout: ParamLayout): ModelWeights {
  return viewParams(layout, allocShared(layout.totalBytes));
}
