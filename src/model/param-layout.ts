// Parameter memory as a table (llm.c fill_in_parameter_sizes): one SharedArrayBuffer holds every
// tensor a stage needs, each at a fixed offset, read through named Float32Array views. The table
// is the same for every family (model/config.ts says which entries exist and how wide); where a
// family's checkpoint tensors go is in checkpoint-names.ts.
//
// Every linear weight is stored [I, O] (in × out): q|k|v fused into one [C, W] matrix, gate|up
// into one [C, 2I] (SwiGLU), so one matmul computes each. The RoPE cos/sin tables are computed at
// load into the same buffer, so every worker reads the same numbers.
//
// Legend: L = layers, C = hidden, W = (NH + 2·NKV)·D, QD = NH·D, I = MLP width, U = I (GELU) or
// 2I (SwiGLU), V = vocab, P = context, D = head width.
import { allocShared } from '../kernels/native/huge-pages.js';
import { qkvDims, type ModelConfig } from './config.js';

export interface StageSpec {
  layerStart: number;  // first layer (inclusive)
  layerEnd: number;    // last layer (exclusive)
  embeddings: boolean; // wte (+ wpe) for the input side
  head: boolean;       // final norm + LM head for the output side
}

export interface LayoutEntry {
  name: string;     // internal name, e.g. "L3.qkv.w" (checkpoint-names.ts maps checkpoint tensors onto it)
  shape: number[];
  offset: number;   // in floats, from the start of the buffer
  size: number;     // in floats
}

export interface ParamLayout {
  config: ModelConfig;
  stage: StageSpec;
  entries: LayoutEntry[];
  totalFloats: number;
}

/** A norm's weights: LayerNorm has a bias, RMSNorm none. */
export interface NormWeights { w: Float32Array; b: Float32Array | null }

/** One block's tensors as stored (linear weights [I, O]; tensor-parallel stages rewrite them as column shards: tensor-parallel.ts). */
export interface LayerWeights {
  norm1: NormWeights;                                  // [C]
  qkv: Float32Array; qkvB: Float32Array | null;        // [C, W], [W]
  qNorm: Float32Array | null; kNorm: Float32Array | null; // [D] (Qwen3)
  o: Float32Array; oB: Float32Array | null;            // [QD, C], [C]
  norm2: NormWeights;                                  // [C]
  up: Float32Array; upB: Float32Array | null;          // [C, U], [U]
  down: Float32Array; downB: Float32Array | null;      // [I, C], [C]
}

export interface ModelWeights {
  buffer: SharedArrayBuffer;
  layout: ParamLayout;
  wte: Float32Array | null;     // [V, C]  token embedding (also the LM head when tied)
  wpe: Float32Array | null;     // [P, C]  learned positions (GPT-2)
  normF: NormWeights | null;    // [C]
  lmHead: Float32Array | null;  // [V, C]  the LM head: wte when tied
  rope: { cos: Float32Array; sin: Float32Array } | null; // [P, D/2] each
  layers: LayerWeights[];       // layers[l - layerStart]
}

/** Per-layer entries: suffix, shape, and whether this family has it. */
function layerTable(c: ModelConfig): Array<[string, number[], boolean]> {
  const { nEmbd: C, nInner: I, headDim: D } = c, { q: QD, width: W } = qkvDims(c);
  const U = c.mlp === 'swiglu' ? 2 * I : I, ln = c.norm === 'layernorm';
  return [
    ['norm1.w', [C], true], ['norm1.b', [C], ln],
    ['qkv.w', [C, W], true], ['qkv.b', [W], c.qkvBias],
    ['qnorm', [D], c.qkNorm], ['knorm', [D], c.qkNorm],
    ['o.w', [QD, C], true], ['o.b', [C], c.oBias],
    ['norm2.w', [C], true], ['norm2.b', [C], ln],
    ['up.w', [C, U], true], ['up.b', [U], c.mlpBias],
    ['down.w', [I, C], true], ['down.b', [C], c.mlpBias],
  ];
}

export function fullModelStage(c: ModelConfig): StageSpec {
  return { layerStart: 0, layerEnd: c.nLayer, embeddings: true, head: true };
}

const ALIGN = 16; // floats: every tensor starts on a 64-byte boundary (SIMD-friendly)

/** The size table: which tensors a stage holds and where. */
export function planParams(c: ModelConfig, stage: StageSpec = fullModelStage(c)): ParamLayout {
  const { nEmbd: C, vocabSize: V, nPositions: P } = c;
  const wanted: Array<[string, number[]]> = [];
  if (stage.embeddings || (stage.head && c.tied)) wanted.push(['wte', [V, C]]);
  if (stage.embeddings && c.positions === 'learned') wanted.push(['wpe', [P, C]]);
  if (c.positions === 'rope' && stage.layerEnd > stage.layerStart) wanted.push(['rope.cos', [P, c.headDim / 2]], ['rope.sin', [P, c.headDim / 2]]);
  for (let l = stage.layerStart; l < stage.layerEnd; l++) {
    for (const [suffix, shape, has] of layerTable(c)) if (has) wanted.push([`L${l}.${suffix}`, shape]);
  }
  if (stage.head) {
    wanted.push(['normf.w', [C]]);
    if (c.norm === 'layernorm') wanted.push(['normf.b', [C]]);
    if (!c.tied) wanted.push(['lm_head', [V, C]]);
  }
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, shape] of wanted) {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, size });
    offset += Math.ceil(size / ALIGN) * ALIGN;
  }
  return { config: c, stage, entries, totalFloats: offset };
}

/** Named views over an existing buffer (a worker calls this on the SharedArrayBuffer it was sent). */
export function viewParams(layout: ParamLayout, buffer: SharedArrayBuffer): ModelWeights {
  const byName = new Map<string, Float32Array>();
  for (const e of layout.entries) byName.set(e.name, new Float32Array(buffer, e.offset * 4, e.size));
  const get = (name: string) => byName.get(name) ?? null;
  const norm = (p: string): NormWeights | null => (byName.has(`${p}.w`) ? { w: byName.get(`${p}.w`)!, b: get(`${p}.b`) } : null);
  const { stage } = layout;
  const layers: LayerWeights[] = [];
  for (let l = stage.layerStart; l < stage.layerEnd; l++) {
    const g = (s: string) => get(`L${l}.${s}`);
    layers.push({
      norm1: norm(`L${l}.norm1`)!, qkv: g('qkv.w')!, qkvB: g('qkv.b'), qNorm: g('qnorm'), kNorm: g('knorm'),
      o: g('o.w')!, oB: g('o.b'), norm2: norm(`L${l}.norm2`)!, up: g('up.w')!, upB: g('up.b'), down: g('down.w')!, downB: g('down.b'),
    });
  }
  const cos = get('rope.cos'), sin = get('rope.sin');
  return {
    buffer, layout, layers, wte: get('wte'), wpe: get('wpe'), normF: norm('normf'),
    lmHead: get('lm_head') ?? (stage.head ? get('wte') : null), rope: cos && sin ? { cos, sin } : null,
  };
}

/** A fresh buffer for the layout (backed by huge pages where possible: see kernels/native/huge-pages.ts). */
export function allocParams(layout: ParamLayout): ModelWeights {
  return viewParams(layout, allocShared(layout.totalFloats * 4));
}
