// A tokenizer.json tokenizer (Llama 2/3, TinyLlama, SmolLM2, Mistral, Qwen2.5/3) over
// @huggingface/tokenizers (pure JS), behind the same interface as GPT-2's.
//
// Untrusted prompt text: @huggingface/tokenizers 0.2.0 matches added tokens inside any text (it
// does not honour split_special_tokens), so plain encode() uses a second instance built without
// the *special* added tokens: "<|eot_id|>" in a prompt is the characters "<|", "eot", ... . Added
// tokens with special:false (Qwen3's <think>) stay, as in HF with split_special_tokens=True.
// allowSpecial uses the instance with all added tokens.
//
// BOS/EOS around a prompt are added here, not by the library: the post-processor's
// TemplateProcessing says which ("single": [<|begin_of_text|>, $A] → bosId 128000), except for
// the tokenizer classes whose transformers code rebuilds it from add_bos_token/add_eos_token.
import { existsSync, readFileSync } from 'node:fs';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from '../errors.js';
import { byteLevelToBytes } from './byte-level.js';
import { applyChatTemplate } from './chat.js';
import {
  checkTokenizerJson, decoderStyle, postProcessorTemplate, readJsonFile, tokenContent,
  type DecoderStyle, type TokenizerConfig, type TokenizerJson,
} from './hf-json.js';
import { concatTokenBytes, StreamDecoder, type ChatMessage, type Tokenizer } from './types.js';

// transformers' LlamaTokenizerFast / GemmaTokenizerFast call update_post_processor(), which
// replaces tokenizer.json's template by add_bos_token (default true) and add_eos_token (false)
const REBUILDS_TEMPLATE = /^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/;
const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;
const EMPTY = new Uint8Array(0);

export interface HfTokenizerFiles {
  json: unknown;
  config?: TokenizerConfig | null;
  /** names the files in error messages */
  source?: string;
  /** chat_template.jinja's text, where the model keeps its template there (newer transformers) */
  chatTemplateFile?: string | null;
}

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosIds: readonly number[];
  /** Prompt ids come as [...prefix, ...text ids, ...suffix]. */
  readonly prefix: readonly number[];
  readonly suffix: readonly number[];
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly chatTemplate: string | null;
  /** Contents of the added tokens marked special (what plain encode() treats as text). */
  readonly specialTokens: readonly string[];
  readonly config: TokenizerConfig;
  /** Set only when there is a chat template: its absence is how callers know (Tokenizer.chat). */
  readonly chat?: (messages: readonly ChatMessage[]) => { text: string; ids: number[] };
  // plainTok is built on first use (~1 s for a 128k vocabulary): a chat prompt needs only specialTok
  private plainTok: HfJsTokenizer | null = null;
  private specialTok: HfJsTokenizer | null = null;
  private readonly json: TokenizerJson;
  /** tokenizer.json's path, for messages */
  readonly src: string;
  private readonly strings: Array<string | undefined>;  // id → vocabulary string
  private readonly addedIds = new Set<number>();        // their bytes are their content's UTF-8
  private readonly specialIds = new Set<number>();
  private readonly contentToId = new Map<string, number>();
  private readonly style: DecoderStyle;
  private readonly bytesCache: Array<Uint8Array | undefined>;
  private readonly enc = new TextEncoder();

  constructor(files: HfTokenizerFiles) {
    const src = files.source ?? 'tokenizer.json';
    const j: TokenizerJson = checkTokenizerJson(src, files.json);
    const cfgFile = `${src.replace(/tokenizer\.json$/, '')}tokenizer_config.json`;
    this.config = files.config ?? {};
    this.style = decoderStyle(src, j.decoder);
    this.style.byteFallback ||= j.model.byte_fallback === true;

    this.strings = [];
    for (const [s, id] of Object.entries(j.model.vocab)) { this.strings[id] = s; this.contentToId.set(s, id); }
    for (const t of j.added_tokens) {
      this.strings[t.id] = t.content;
      this.addedIds.add(t.id);
      if (t.special === true) this.specialIds.add(t.id);
      this.contentToId.set(t.content, t.id);
    }
    this.vocabSize = this.strings.length;
    this.specialTokens = j.added_tokens.filter((t) => t.special === true).map((t) => t.content);
    this.bytesCache = new Array(this.vocabSize);

    this.json = j;
    this.src = src;
    this.specialTok = build(src, j, this.config); // now, so a broken file fails at load time

    this.bosToken = tokenContent(cfgFile, this.config, 'bos_token');
    this.eosToken = tokenContent(cfgFile, this.config, 'eos_token');
    const idOf = (tok: string | null, key: string): number | null => {
      if (tok === null) return null;
      const id = this.contentToId.get(tok);
      if (id === undefined) throw new TokenizerError(cfgFile, `"${key}": ${JSON.stringify(tok)} is not a token of ${src}`);
      return id;
    };
    const bos = idOf(this.bosToken, 'bos_token'), eos = idOf(this.eosToken, 'eos_token');
    const tpl = postProcessorTemplate(src, j.post_processor);
    const cls = this.config.tokenizer_class;
    if (typeof cls === 'string' && REBUILDS_TEMPLATE.test(cls)) {
      const addBos = this.config.add_bos_token ?? true, addEos = this.config.add_eos_token ?? false;
      this.prefix = addBos === true && bos !== null ? [bos] : [];
      this.suffix = addEos === true && eos !== null ? [eos] : [];
    } else {
      this.prefix = tpl.prefix;
      this.suffix = tpl.suffix;
    }
    this.bosId = this.prefix.length > 0 ? this.prefix[0] : null;
    this.eosIds = eos === null ? [] : [eos];
    this.chatTemplate = chatTemplateOf(cfgFile, this.config.chat_template, files.chatTemplateFile ?? null);
    if (this.chatTemplate !== null) this.chat = (messages) => applyChatTemplate(this, messages);
  }

  /** tokenizer.json (required) and tokenizer_config.json (optional) of a model directory. */
  static fromDir(dir: string): HfTokenizer {
    const jsonFile = `${dir.replace(/\/$/, '')}/tokenizer.json`;
    const cfgFile = `${dir.replace(/\/$/, '')}/tokenizer_config.json`;
    let config: TokenizerConfig | null = null;
    try {
      config = readJsonFile(cfgFile) as TokenizerConfig;
    } catch (e) {
      // a missing tokenizer_config.json is fine (no chat template, no bos/eos names); a broken one is not
      if (!(e instanceof TokenizerError) || !/cannot be read: ENOENT/.test(e.message)) throw e;
    }
    if (config !== null && (typeof config !== 'object' || Array.isArray(config))) {
      throw new TokenizerError(cfgFile, `expected a JSON object, got ${JSON.stringify(config)?.slice(0, 80)}`);
    }
    const jinja = `${dir.replace(/\/$/, '')}/chat_template.jinja`;
    const chatTemplateFile = existsSync(jinja) ? readFileSync(jinja, 'utf8') : null;
    return new HfTokenizer({ json: readJsonFile(jsonFile), config, source: jsonFile, chatTemplateFile });
  }

  /** Id of a token string (vocabulary or added token), or undefined. */
  tokenId(content: string): number | undefined {
    return this.contentToId.get(content);
  }

  encode(text: string, allowSpecial = false, addSpecial = true): number[] {
    const ids = text.length === 0 ? [] : this.instance(allowSpecial).encode(text, { add_special_tokens: false }).ids;
    const bad = ids.findIndex((x: number) => !Number.isInteger(x));
    if (bad >= 0) throw new TokenizerError(this.src, `text piece ${bad} of ${JSON.stringify(text.slice(0, 40))} has no id (no byte fallback, no unk_token)`);
    return addSpecial ? [...this.prefix, ...ids, ...this.suffix] : ids;
  }

  private instance(withSpecial: boolean): HfJsTokenizer {
    if (withSpecial) return (this.specialTok ??= build(this.src, this.json, this.config));
    if (!this.plainTok) {
      // Only the added-token splitting differs, so the plain instance borrows the BPE model (the
      // costly part: a map of every merge) and is built over an empty one. The borrowed model's
      // token → id map also holds the special contents; that changes nothing because BPE yields
      // only vocabulary strings — unless ignore_merges looks a whole pre-token up in that map
      // and a special content can be one whole pre-token: then the plain instance gets its own.
      const j = this.json;
      const nonSpecial = j.added_tokens.filter((t) => t.special !== true);
      const own = build(this.src, { ...j, added_tokens: nonSpecial }, this.config, true);
      const pre = own.pre_tokenizer as unknown as ((s: string) => string[]) | null;
      const risky = j.model.ignore_merges === true && j.added_tokens.some((t) =>
        t.special === true && !(t.content in j.model.vocab) && (pre === null || pre(t.content).length === 1));
      if (risky) {
        this.plainTok = build(this.src, { ...j, added_tokens: nonSpecial }, this.config);
      } else {
        own.model = this.instance(true).model;
        this.plainTok = own;
      }
    }
    return this.plainTok;
  }

  /** Bytes of one token; ids this tokenizer does not know (model padding rows) decode to nothing. */
  tokenBytes(id: number): Uint8Array {
    const hit = this.bytesCache[id];
    if (hit) return hit;
    const s = this.strings[id];
    if (s === undefined) return EMPTY;
    let b: Uint8Array;
    if (this.addedIds.has(id)) b = this.enc.encode(s);
    else if (this.style.kind === 'byte-level') b = byteLevelToBytes(s) ?? this.enc.encode(s);
    else {
      const m = this.style.byteFallback ? BYTE_FALLBACK.exec(s) : null;
      b = m ? Uint8Array.of(parseInt(m[1], 16)) : this.enc.encode(s.replaceAll(this.style.replacement, ' '));
    }
    this.bytesCache[id] = b;
    return b;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return concatTokenBytes(this, ids);
  }

  /**
   * HF decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False): for
   * SentencePiece-style tokenizers one leading space goes (the "▁" encode prepended), so
   * decode(encode(text, false, false)) === text. Stream decoding keeps it: there the token
   * continues a prompt, and " world" after "Hello" needs its space (vLLM does the same).
   */
  decode(ids: ArrayLike<number>): string {
    const s = new TextDecoder().decode(this.decodeBytes(ids));
    return this.style.stripLeading && s.startsWith(' ') ? s.slice(1) : s;
  }

  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }

  tokenText(id: number): string {
    return new TextDecoder().decode(this.tokenBytes(id));
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  free(): void {
    // pure JS: nothing outside the garbage-collected heap
  }
}

/** The library's tokenizer; modelless: over an empty BPE model, to be given a real one. */
function build(src: string, j: TokenizerJson, config: TokenizerConfig, modelless = false): HfJsTokenizer {
  const json = modelless ? { ...j, model: { ...j.model, vocab: {}, merges: [] } } : j;
  try {
    return new HfJsTokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(src, `@huggingface/tokenizers cannot build it: ${(e as Error).message}`);
  }
}

/** "chat_template": a string, or a list [{name, template}] whose "default" entry is used. */
function chatTemplateOf(file: string, v: unknown, fromFile: string | null): string | null {
  if (v === undefined || v === null) return fromFile;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const d = v.find((x) => x && typeof x === 'object' && x.name === 'default');
    if (d && typeof d.template === 'string') return d.template;
  }
  throw new TokenizerError(file, `"chat_template": expected a string or a list with a {"name": "default", "template": string} entry, got ${JSON.stringify(v).slice(0, 80)}`);
}
