// The tokenizer of a model directory that ships none (e.g. weights converted without their
// tokenizer files): requests must give prompt_token_ids; generated ids come back with empty text.
import { TokenizerError } from '../errors.js';
import { StreamDecoder, type Tokenizer } from './types.js';

const EMPTY = new Uint8Array(0);

export class IdsOnlyTokenizer implements Tokenizer {
  readonly bosId = null;
  readonly eosIds: readonly number[] = [];
  readonly textless = true;
  constructor(readonly vocabSize: number, private readonly dir: string) {}
  encode(): number[] {
    throw new TokenizerError(this.dir, 'has no tokenizer.json: send prompt_token_ids instead of text (or add the model\'s tokenizer.json)');
  }
  decodeBytes(): Uint8Array { return EMPTY; }
  tokenBytes(): Uint8Array { return EMPTY; }
  decode(): string { return ''; }
  streamDecoder(): StreamDecoder { return new StreamDecoder(this); }
  tokenText(): string { return ''; }
  isSpecial(): boolean { return false; }
  free(): void {}
}
