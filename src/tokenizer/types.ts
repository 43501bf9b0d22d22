// The one tokenizer interface the engine uses, for every model family (GPT-2 through tiktoken,
// Llama / Mistral / Qwen through tokenizer.json), and the streaming UTF-8 decoder built on it.

export interface Tokenizer {
  /** Ids of the vocabulary the ids come from (added tokens included). */
  readonly vocabSize: number;
  /**
   * The id encode() prepends to a prompt (Llama 2/3 `<s>` / `<|begin_of_text|>`), null for none
   * (GPT-2, Qwen). The engine does NOT prepend it again: encode() already did.
   */
  readonly bosId: number | null;
  /** Ids that end a generation by default, as tokenizer_config names them (may be empty). */
  readonly eosIds: readonly number[];
  /** True when ids have no text (a model directory without tokenizer files): no structured outputs. */
  readonly textless?: boolean;
  /**
   * The prompt ids a completion request sees, like HF `encode(text)` with add_special_tokens:
   * BOS (and any other post-processor tokens) included unless addSpecial is false. Text is
   * untrusted: special-token strings in it are ordinary characters unless allowSpecial.
   */
  encode(text: string, allowSpecial?: boolean, addSpecial?: boolean): number[];
  /** Raw bytes of the ids concatenated (a token may hold part of a multi-byte character). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
  /**
   * Raw bytes of one token as a continuation of earlier text (SentencePiece `▁x` gives " x":
   * no leading-space stripping). Cached; do not modify the array.
   */
  tokenBytes(id: number): Uint8Array;
  /** Whole-sequence decode as HF `decode(ids)` does; invalid UTF-8 becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** A per-sequence decoder: push ids one at a time, get back only complete characters. */
  streamDecoder(): StreamDecoder;
  /** Text of one token on its own, for logprobs displays (may contain U+FFFD for partial bytes). */
  tokenText(id: number): string;
  /**
   * Whether id is a special token (<|eot_id|>, <s>, <|endoftext|>): vLLM leaves these out of the
   * output text by default (skip_special_tokens), which is the engine's call to make.
   */
  isSpecial(id: number): boolean;
  /**
   * Renders a conversation with the model's chat template (generation prompt appended) and
   * tokenizes it as HF apply_chat_template does: no BOS added around it, special tokens parsed.
   * Absent when the tokenizer has no chat template (GPT-2, ids-only, a tokenizer.json without
   * one): callers test for the method instead of for tokenizer classes.
   */
  chat?(messages: readonly ChatMessage[]): { text: string; ids: number[] };
  free(): void;
}

/** One chat turn. Other keys (name, ...) are passed to the template as they are. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Streaming UTF-8 decode: bytes of a character split across tokens are held until it completes. */
export class StreamDecoder {
  private readonly td = new TextDecoder('utf-8');
  constructor(private readonly tok: Pick<Tokenizer, 'tokenBytes'>) {}
  push(id: number): string {
    return this.td.decode(this.tok.tokenBytes(id), { stream: true });
  }
  /** Whatever incomplete bytes remain, as U+FFFD. */
  flush(): string {
    return this.td.decode();
  }
}

/** Concatenation of per-token bytes (shared by the tokenizers that keep a byte table). */
export function concatTokenBytes(tok: Pick<Tokenizer, 'tokenBytes'>, ids: ArrayLike<number>): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const b = tok.tokenBytes(ids[i]);
    parts.push(b);
    n += b.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
