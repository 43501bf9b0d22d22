// Reading and checking tokenizer.json / tokenizer_config.json: what HfTokenizer needs to know
// beyond what @huggingface/tokenizers does itself (which tokens a prompt gets around it, how a
// vocabulary string turns back into bytes). Every failure names the file, the field, what was
// expected and what was given.
import { readFileSync } from 'node:fs';
import { TokenizerError } from '../errors.js';

export interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  [k: string]: unknown;
}

/** The parts of tokenizer.json we look at; the rest goes to @huggingface/tokenizers untouched. */
export interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: unknown[]; byte_fallback?: boolean; [k: string]: unknown };
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  [k: string]: unknown;
}

export type TokenizerConfig = Record<string, unknown>;

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TokenizerError(file, `cannot be read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(file, `expected JSON, got a parse error: ${(e as Error).message}`);
  }
}

/** Checks the fields HfTokenizer relies on; returns the same object, typed. */
export function checkTokenizerJson(file: string, j: unknown): TokenizerJson {
  if (!isObj(j)) throw new TokenizerError(file, `expected a JSON object, got ${show(j)}`);
  const m = j.model;
  if (!isObj(m)) throw new TokenizerError(file, `"model": expected an object, got ${show(m)}`);
  if (m.type !== 'BPE') {
    throw new TokenizerError(file, `"model.type": expected "BPE" (byte-level or SentencePiece-style BPE), got ${show(m.type)}`);
  }
  if (!isObj(m.vocab)) throw new TokenizerError(file, `"model.vocab": expected an object of token → id, got ${show(m.vocab)}`);
  for (const [tok, id] of Object.entries(m.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TokenizerError(file, `"model.vocab": expected a non-negative integer id for ${show(tok)}, got ${show(id)}`);
    }
  }
  if (!Array.isArray(m.merges)) throw new TokenizerError(file, `"model.merges": expected an array, got ${show(m.merges)}`);
  for (const [i, mg] of m.merges.entries()) {
    const ok = typeof mg === 'string' ? mg.includes(' ') : Array.isArray(mg) && mg.length === 2 && mg.every((x) => typeof x === 'string');
    if (!ok) throw new TokenizerError(file, `"model.merges[${i}]": expected "a b" or ["a", "b"], got ${show(mg)}`);
  }
  const added = j.added_tokens ?? [];
  if (!Array.isArray(added)) throw new TokenizerError(file, `"added_tokens": expected an array, got ${show(added)}`);
  for (const [i, t] of added.entries()) {
    if (!isObj(t) || !Number.isInteger(t.id) || (t.id as number) < 0 || typeof t.content !== 'string' || t.content === '') {
      throw new TokenizerError(file, `"added_tokens[${i}]": expected {"id": integer >= 0, "content": non-empty string, ...}, got ${show(t)}`);
    }
  }
  // @huggingface/tokenizers insists on these keys being present (null is fine)
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) j[k] ??= null;
  j.added_tokens = added;
  return j as unknown as TokenizerJson;
}

/** tokenizer_config.json's bos_token / eos_token: a string, an AddedToken object {content}, or null. */
export function tokenContent(file: string, config: TokenizerConfig, key: string): string | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  throw new TokenizerError(file, `"${key}": expected a string or {"content": string}, got ${show(v)}`);
}

/** Ids a post-processor puts around a single sequence: "single": [<s>, $A] → prefix [1]. */
export interface Template { prefix: number[]; suffix: number[]; found: boolean }

export function postProcessorTemplate(file: string, pp: unknown): Template {
  const out: Template = { prefix: [], suffix: [], found: false };
  if (pp === null || pp === undefined) return out;
  if (!isObj(pp)) throw new TokenizerError(file, `"post_processor": expected an object or null, got ${show(pp)}`);
  if (pp.type === 'Sequence') {
    const list = pp.processors;
    if (!Array.isArray(list)) throw new TokenizerError(file, `"post_processor.processors": expected an array, got ${show(list)}`);
    for (const p of list) {
      const t = postProcessorTemplate(file, p);
      if (t.found) return t;
    }
    return out;
  }
  if (pp.type === 'ByteLevel') return out; // offsets only, no tokens
  if (pp.type !== 'TemplateProcessing') {
    throw new TokenizerError(file, `"post_processor.type": expected TemplateProcessing, ByteLevel or a Sequence of them, got ${show(pp.type)}`);
  }
  const single = pp.single, specials = pp.special_tokens;
  if (!Array.isArray(single) || !isObj(specials)) {
    throw new TokenizerError(file, `"post_processor": TemplateProcessing needs "single" (array) and "special_tokens" (object), got ${show(pp)}`);
  }
  let seenA = false;
  for (const piece of single) {
    if (isObj(piece) && isObj(piece.Sequence)) { seenA = true; continue; }
    const name = isObj(piece) && isObj(piece.SpecialToken) ? piece.SpecialToken.id : undefined;
    const spec = typeof name === 'string' ? specials[name] : undefined;
    const ids = isObj(spec) ? spec.ids : undefined;
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x))) {
      throw new TokenizerError(file, `"post_processor.single": expected {"SpecialToken": {"id": name}} with that name in special_tokens, got ${show(piece)}`);
    }
    (seenA ? out.suffix : out.prefix).push(...(ids as number[]));
  }
  out.found = true;
  return out;
}

/**
 * How a vocabulary string becomes bytes, read from the decoder:
 *   byte-level   "Ġhi" → " hi" through the byte-level alphabet (GPT-2, Llama 3, Qwen)
 *   metaspace    "▁hi" → " hi", "<0x0A>" → byte 0x0A with byte fallback (Llama 2, Mistral, TinyLlama)
 * stripLeading: HF drops one leading space of the whole decode (SentencePiece's dummy prefix,
 * a Strip{start: 1} or a Metaspace decoder that prepends).
 */
export interface DecoderStyle { kind: 'byte-level' | 'metaspace'; replacement: string; byteFallback: boolean; stripLeading: boolean }

export function decoderStyle(file: string, dec: unknown): DecoderStyle {
  const parts = isObj(dec) && dec.type === 'Sequence' && Array.isArray(dec.decoders) ? dec.decoders : [dec];
  const style: DecoderStyle = { kind: 'metaspace', replacement: '\u2581', byteFallback: false, stripLeading: false };
  let known = false;
  for (const d of parts) {
    if (!isObj(d)) throw new TokenizerError(file, `"decoder": expected ByteLevel, Metaspace or a Sequence of Replace/ByteFallback/Fuse/Strip (it says how tokens become bytes), got ${show(d)}`);
    switch (d.type) {
      case 'ByteLevel': style.kind = 'byte-level'; known = true; break;
      case 'Metaspace':
        known = true;
        style.replacement = typeof d.replacement === 'string' ? d.replacement : '\u2581';
        style.stripLeading = (d.prepend_scheme ?? (d.add_prefix_space === false ? 'never' : 'always')) !== 'never';
        break;
      case 'Replace': {
        const pat = isObj(d.pattern) ? d.pattern.String : undefined;
        if (typeof pat !== 'string' || d.content !== ' ') {
          throw new TokenizerError(file, `"decoder": only Replace {"String": "▁"} → " " is supported, got ${show(d)}`);
        }
        style.replacement = pat;
        known = true;
        break;
      }
      case 'ByteFallback': style.byteFallback = true; break;
      case 'Fuse': break;
      case 'Strip':
        if (d.content !== ' ' || d.stop !== 0 || !(d.start === 0 || d.start === 1)) {
          throw new TokenizerError(file, `"decoder": only Strip {"content": " ", "start": 0|1, "stop": 0} is supported, got ${show(d)}`);
        }
        style.stripLeading = d.start === 1;
        break;
      default:
        throw new TokenizerError(file, `"decoder": expected ByteLevel, Metaspace or a Sequence of Replace/ByteFallback/Fuse/Strip, got type ${show(d.type)}`);
    }
  }
  if (!known) throw new TokenizerError(file, `"decoder": expected a ByteLevel or Metaspace/Replace decoder, got ${show(dec)}`);
  return style;
}
