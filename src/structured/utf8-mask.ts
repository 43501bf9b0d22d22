// Valid UTF-8 across token boundaries. xgrammar 0.1.27 matches characters leniently at the byte
// level: it let through F4 99 98 A0 (past U+10FFFF) and lead bytes C0, F6, F7. Here each token's
// bytes are run once through the UTF-8 automaton from each of its 8 states, giving, per state,
// the tokens that keep the text valid (a bitmask ANDed into the grammar's) and where they leave it.
//
// States: S0 at a character boundary; C1..C3 = 1..3 continuation bytes (80-BF) still due; E0, ED,
// F0, F4 = after those lead bytes, whose next byte has a narrower range (no overlong forms, no
// surrogates, nothing past U+10FFFF), with 1, 1, 2, 2 more continuation bytes due after it.
export const UTF8_STATES = 8;
const S0 = 0, C1 = 1, C2 = 2, C3 = 3, E0 = 4, ED = 5, F0 = 6, F4 = 7, BAD = 255;

/** The state after byte b from state s (BAD: invalid). */
function step(s: number, b: number): number {
  switch (s) {
    case S0:
      if (b < 0x80) return S0;
      if (b >= 0xc2 && b <= 0xdf) return C1;
      if (b === 0xe0) return E0;
      if (b === 0xed) return ED;
      if (b >= 0xe1 && b <= 0xef) return C2;
      if (b === 0xf0) return F0;
      if (b >= 0xf1 && b <= 0xf3) return C3;
      if (b === 0xf4) return F4;
      return BAD; // 80-BF (stray continuation), C0, C1, F5-FF
    case C1: return b >= 0x80 && b <= 0xbf ? S0 : BAD;
    case C2: return b >= 0x80 && b <= 0xbf ? C1 : BAD;
    case C3: return b >= 0x80 && b <= 0xbf ? C2 : BAD;
    case E0: return b >= 0xa0 && b <= 0xbf ? C1 : BAD;
    case ED: return b >= 0x80 && b <= 0x9f ? C1 : BAD;
    case F0: return b >= 0x90 && b <= 0xbf ? C2 : BAD;
    case F4: return b >= 0x80 && b <= 0x8f ? C2 : BAD;
  }
  return BAD;
}

export interface Utf8Table {
  /** next[id * 8 + s]: the state after token id from state s (255: invalid; special tokens keep s) */
  next: Uint8Array;
  /** allowed[s]: bit 1 = the token keeps the text valid from state s */
  allowed: Int32Array[];
}

/**
 * `bytesOf(id)` null = a token that adds no text (stop and special ids: allowed from any state,
 * leaving it unchanged); ids at or past `banFrom` are never allowed.
 */
export function utf8Table(V: number, bytesOf: (id: number) => Uint8Array | null, banFrom = V): Utf8Table {
  const words = Math.ceil(V / 32);
  const next = new Uint8Array(V * UTF8_STATES).fill(BAD);
  const allowed = Array.from({ length: UTF8_STATES }, () => new Int32Array(words));
  for (let id = 0; id < Math.min(V, banFrom); id++) {
    const bytes = bytesOf(id);
    for (let s0 = 0; s0 < UTF8_STATES; s0++) {
      let s = s0;
      if (bytes !== null) for (let i = 0; i < bytes.length && s !== BAD; i++) s = step(s, bytes[i]);
      next[id * UTF8_STATES + s0] = s;
      if (s !== BAD) allowed[s0][id >> 5] |= 1 << (id & 31);
    }
  }
  return { next, allowed };
}
