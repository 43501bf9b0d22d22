// Parameter memory as a table (llm.c fill_in_parameter_sizes): one SharedArrayBuffer holds every
// tensor a stage needs, each at a fixed offset, read through named Float32Array views. A pipeline
// stage lays out only its own layers, plus the embeddings (first stage) or ln_f + wte (last stage).
//
// Legend: L = layers, C = n_embd, I = n_inner, V = vocab_size, P = n_positions.
import type { ModelConfig } from './config.js';
import { allocShared } from '../kernels/native/huge-pages.js';

export interface StageSpec {
  layerStart: number;  // first layer (inclusive)
  layerEnd: number;    // last layer (exclusive)
  embeddings: boolean; // wte + wpe for the input side
  head: boolean;       // ln_f + wte (tied LM head) for the output side
}

export interface LayoutEntry {
  name: string;     // canonical HF name without "transformer." (e.g. "h.3.mlp.c_fc.weight")
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

export interface LayerWeights {
  ln1W: Float32Array; ln1B: Float32Array;           // [C]
  attnW: Float32Array; attnB: Float32Array;         // [C, 3C], [3C]  (q|k|v columns)
  attnProjW: Float32Array; attnProjB: Float32Array; // [C, C], [C]
  ln2W: Float32Array; ln2B: Float32Array;           // [C]
  fcW: Float32Array; fcB: Float32Array;             // [C, I], [I]
  fcProjW: Float32Array; fcProjB: Float32Array;     // [I, C], [C]
}

export interface ModelWeights {
  buffer: SharedArrayBuffer;
  layout: ParamLayout;
  wte: Float32Array | null;  // [V, C]  token embedding, also the tied LM head
  wpe: Float32Array | null;  // [P, C]
  lnfW: Float32Array | null; // [C]
  lnfB: Float32Array | null; // [C]
  layers: LayerWeights[];    // layers[l - layerStart]
}

/** Per-layer tensors: HF suffix, view name, shape. */
function layerTable(c: ModelConfig): Array<[string, keyof LayerWeights, number[]]> {
  const { nEmbd: C, nInner: I } = c;
  return [
    ['ln_1.weight', 'ln1W', [C]], ['ln_1.bias', 'ln1B', [C]],
    ['attn.c_attn.weight', 'attnW', [C, 3 * C]], ['attn.c_attn.bias', 'attnB', [3 * C]],
    ['attn.c_proj.weight', 'attnProjW', [C, C]], ['attn.c_proj.bias', 'attnProjB', [C]],
    ['ln_2.weight', 'ln2W', [C]], ['ln_2.bias', 'ln2B', [C]],
    ['mlp.c_fc.weight', 'fcW', [C, I]], ['mlp.c_fc.bias', 'fcB', [I]],
    ['mlp.c_proj.weight', 'fcProjW', [I, C]], ['mlp.c_proj.bias', 'fcProjB', [C]],
  ];
}

export function fullModelStage(c: ModelConfig): StageSpec {
  return { layerStart: 0, layerEnd: c.nLayer, embeddings: true, head: true };
}

const ALIGN = 16; // floats: every tensor starts on a 64-byte boundary (SIMD-friendly)

/** The size table: which tensors a stage holds and where. */
export function planParams(config: ModelConfig, stage: StageSpec = fullModelStage(config)): ParamLayout {
  const { nEmbd: C, vocabSize: V, nPositions: P } = config;
  const wanted: Array<[string, number[]]> = [];
  if (stage.embeddings || stage.head) wanted.push(['wte.weight', [V, C]]);
  if (stage.embeddings) wanted.push(['wpe.weight', [P, C]]);
  for (let l = stage.layerStart; l < stage.layerEnd; l++) {
    for (const [suffix, , shape] of layerTable(config)) wanted.push([`h.${l}.${suffix}`, shape]);
  }
  if (stage.head) wanted.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, shape] of wanted) {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, size });
    offset += Math.ceil(size / ALIGN) * ALIGN;
  }
  return { config, stage, entries, totalFloats: offset };
}

/** Named views over an existing buffer (a worker calls this on the SharedArrayBuffer it was sent). */
export function viewParams(layout: ParamLayout, buffer: SharedArrayBuffer): ModelWeights {
  const byName = new Map<string, Float32Array>();
  for (const e of layout.entries) byName.set(e.name, new Float32Array(buffer, e.offset * 4, e.size));
  const { stage } = layout;
  const layers: LayerWeights[] = [];
  for (let l = stage.layerStart; l < stage.layerEnd; l++) {
    const lw = {} as LayerWeights;
    for (const [suffix, key] of layerTable(layout.config)) lw[key] = byName.get(`h.${l}.${suffix}`)!;
    layers.push(lw);
  }
  return {
    buffer, layout, layers,
    wte: byName.get('wte.weight') ?? null,
    wpe: byName.get('wpe.weight') ?? null,
    lnfW: byName.get('ln_f.weight') ?? null,
    lnfB: byName.get('ln_f.bias') ?? null,
  };
}

/** A fresh buffer for the layout (backed by huge pages where possible: see huge-pages.ts). */
export function allocParams(layout: ParamLayout): ModelWeights {
  return viewParams(layout, allocShared(layout.totalFloats * 4));
}
