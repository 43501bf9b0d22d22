// An independent encoder for tiktoken-style byte-level BPE vocabularies (Llama 3, Qwen): the
// `tiktoken` package's Tiktoken (OpenAI's Rust core) over ranks built straight from
// tokenizer.json — each vocabulary string mapped through GPT-2's byte-level alphabet to its raw
// bytes, its id as its rank — with the pre-tokenizer's Split regex as pat_str and the added
// tokens as special tokens. Shares no code with src/ (the alphabet is rebuilt here).
import { Tiktoken } from 'tiktoken';

/** bytes_to_unicode() of GPT-2's encoder.py: code point → byte. */
function alphabet(): Map<number, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  }
  return new Map(cs.map((c, i) => [c, bs[i]]));
}

export interface TiktokenRef {
  enc: Tiktoken;
  /** added tokens that are not special (HF matches them in any text, e.g. Qwen3's <think>) */
  nonSpecial: string[];
  /** NFC for Qwen's normalizer; identity otherwise (tiktoken has no normalizer) */
  normalize: (s: string) => string;
}

export function tiktokenFromTokenizerJson(j: any): TiktokenRef {
  const a = alphabet();
  const lines: string[] = [];
  for (const [tok, id] of Object.entries<number>(j.model.vocab)) {
    const bytes = Buffer.from([...tok].map((ch) => {
      const b = a.get(ch.codePointAt(0)!);
      if (b === undefined) throw new Error(`vocab string ${JSON.stringify(tok)} is not byte-level`);
      return b;
    }));
    lines.push(`${bytes.toString('base64')} ${id}`);
  }
  const specials: Record<string, number> = {};
  for (const t of j.added_tokens) specials[t.content] = t.id;
  const split = j.pre_tokenizer.pretokenizers.find((p: any) => p.type === 'Split');
  const enc = new Tiktoken(lines.join('\n'), specials, split.pattern.Regex);
  const nfc = j.normalizer?.type === 'NFC';
  return {
    enc,
    nonSpecial: j.added_tokens.filter((t: any) => !t.special).map((t: any) => t.content),
    normalize: nfc ? (s) => s.normalize('NFC') : (s) => s,
  };
}

/** Plain prompt text: special tokens are text, non-special added tokens still match (as HF). */
export function refEncode(r: TiktokenRef, text: string, allowSpecial: boolean): number[] {
  const t = r.normalize(text);
  return Array.from(allowSpecial ? r.enc.encode(t, 'all', []) : r.enc.encode(t, r.nonSpecial, []));
}
