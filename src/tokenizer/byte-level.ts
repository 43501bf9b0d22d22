// GPT-2's byte-level alphabet: every byte 0..255 is written as one printable code point in a
// byte-level BPE vocabulary (printable Latin-1 bytes as themselves, the rest shifted to U+0100..).
// Used to turn a vocabulary string like "Ġhello" back into its raw bytes " hello".

function buildByteToChar(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);   // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);   // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);   // '®'..'ÿ'
  const out = new Array<string>(256);
  const kept = new Set(keep);
  let shifted = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(kept.has(b) ? b : 256 + shifted++);
  return out;
}

/** byte → its code point in the byte-level alphabet (index 0..255). */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();
/** code point of the byte-level alphabet → byte. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * Raw bytes of a byte-level vocabulary string; null when some character is outside the
 * alphabet (HF's ByteLevel decoder then keeps the string's own UTF-8, as we do for added tokens).
 */
export function byteLevelToBytes(token: string): Uint8Array | null {
  const out: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return null;
    out.push(b);
  }
  return Uint8Array.from(out);
}
