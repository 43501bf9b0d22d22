// GPT-2 BPE through tiktoken's "gpt2" encoding (ranks ship inside the npm package: no network).
// Prompt text is untrusted: "<|endoftext|>" inside it is ordinary text (encoded as the characters
// "<", "|", "endoftext", ...) unless the caller passes allowSpecial on purpose.
import { createRequire } from 'node:module';
import type { Tiktoken } from 'tiktoken';
import { TokenizerError } from '../errors.js';
import { StreamDecoder, type Tokenizer } from './types.js';

export { StreamDecoder } from './types.js';

export const EOT = 50256;

// tiktoken instantiates its WASM (~21 MiB resident) when the module is loaded, so it is required
// on the first GPT-2 tokenizer rather than imported: a Llama-family job (tokenizer.json) or a worker
// thread that never tokenizes does not pay for it. (The package's "node" export is CommonJS.)
const require = createRequire(import.meta.url);
const getEncoding = (name: 'gpt2'): Tiktoken => (require('tiktoken') as typeof import('tiktoken')).get_encoding(name);

export class Gpt2Tokenizer implements Tokenizer {
  private enc: Tiktoken | null = getEncoding('gpt2');
  readonly vocabSize = 50257;
  readonly bosId = null; // GPT-2 prompts start with no special token
  readonly eosIds: readonly number[] = [EOT];
  // bytes of single tokens, as the streaming decoder asks for them once per generated token (a
  // tiktoken call per token measured ~7.5 µs, the cached bytes ~0.5 µs, on the coordinator thread)
  private readonly tokenBytesCache = new Map<number, Uint8Array>();

  private get e(): Tiktoken {
    if (!this.enc) throw new TokenizerError('gpt2', 'tokenizer already freed');
    return this.enc;
  }

  /** Text → ids (GPT-2 adds no special tokens). With allowSpecial, "<|endoftext|>" becomes the single token 50256. */
  encode(text: string, allowSpecial = false, _addSpecial = true): number[] {
    return Array.from(allowSpecial ? this.e.encode(text, 'all') : this.e.encode(text, [], []));
  }

  /** Raw bytes of the ids (a token may hold part of a multi-byte character). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return this.e.decode(Uint32Array.from(ids as ArrayLike<number>));
  }

  /** Raw bytes of one token (cached; do not modify the array). */
  tokenBytes(id: number): Uint8Array {
    let b = this.tokenBytesCache.get(id);
    if (!b) {
      b = this.e.decode(Uint32Array.of(id));
      this.tokenBytesCache.set(id, b);
    }
    return b;
  }

  /** Whole-sequence decode; invalid UTF-8 at the end becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** A per-sequence decoder: push ids one at a time, get back only complete characters. */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }

  /** Text of one token on its own, for logprobs displays (may contain U+FFFD for partial bytes). */
  tokenText(id: number): string {
    return new TextDecoder().decode(this.tokenBytes(id));
  }

  isSpecial(id: number): boolean {
    return id === EOT;
  }

  free(): void {
    this.enc?.free();
    this.enc = null;
  }
}

let shared: Gpt2Tokenizer | null = null;
/** One encoder per thread: tiktoken's WASM memory is not garbage collected. */
export function sharedTokenizer(): Gpt2Tokenizer {
  shared ??= new Gpt2Tokenizer();
  return shared;
}
