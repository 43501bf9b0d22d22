// EBNF for JSON numbers inside bounds, exactly: xgrammar 0.1.27's own conversion lets 129 through
// `maximum: 120` and 1.5 through `maximum: 1`, so bounded numbers are built here. Integers get any
// bounds; numbers (with a fraction, no exponent) get integer bounds. Each function returns an
// EBNF expression (alternatives), never a rule name.

/** Decimal digit strings of equal length a ≤ b → EBNF sequences matching exactly [a, b]. */
function sameLength(a: string, b: string): string[] {
  const n = a.length;
  if (n === 0) return [''];
  if (a === b) return [`"${a}"`];
  if (/^0*$/.test(a.slice(1)) && /^9*$/.test(b.slice(1))) {
    return [`[${a[0]}-${b[0]}]${n > 1 ? ` [0-9]{${n - 1}}` : ''}`];
  }
  if (a[0] === b[0]) return sameLength(a.slice(1), b.slice(1)).map((t) => `"${a[0]}" ${t}`.trim());
  const out: string[] = [];
  const lowRest = sameLength(a.slice(1), '9'.repeat(n - 1));
  out.push(...lowRest.map((t) => `"${a[0]}" ${t}`.trim()));
  const d0 = Number(a[0]) + 1, d1 = Number(b[0]) - 1;
  if (d0 <= d1) out.push(`[${d0}-${d1}]${n > 1 ? ` [0-9]{${n - 1}}` : ''}`);
  out.push(...sameLength('0'.repeat(n - 1), b.slice(1)).map((t) => `"${b[0]}" ${t}`.trim()));
  return out;
}

/** Non-negative integers in [lo, hi] (hi null = unbounded), no leading zeros. */
function naturals(lo: bigint, hi: bigint | null): string[] {
  if (hi !== null && hi < lo) return [];
  const out: string[] = [];
  const loS = lo.toString(), top = hi === null ? null : hi.toString();
  const maxLen = top === null ? loS.length : top.length;
  for (let len = loS.length; len <= maxLen; len++) {
    const first = len === 1 ? 0n : 10n ** BigInt(len - 1), last = 10n ** BigInt(len) - 1n;
    const a = lo > first ? lo : first, b = hi !== null && hi < last ? hi : last;
    if (a <= b) out.push(...sameLength(a.toString(), b.toString()));
  }
  if (top === null) out.push(`[1-9] [0-9]{${loS.length}} [0-9]*`); // every longer number is above lo
  return out;
}

/** JSON integers in [lo, hi]; null = unbounded on that side. */
export function integerRange(lo: bigint | null, hi: bigint | null): string {
  const alts: string[] = [];
  if (hi === null || hi >= 0n) alts.push(...naturals(lo !== null && lo > 0n ? lo : 0n, hi));
  if (lo === null || lo < 0n) {
    // v in [lo, min(hi, -1)] ⇔ "-" m with m in [max(-hi, 1), -lo]
    const mLo = hi !== null && hi < -1n ? -hi : 1n, mHi = lo === null ? null : -lo;
    const mags = naturals(mLo, mHi);
    if (mags.length > 0) alts.push(`"-" (${mags.join(' | ')})`);
  }
  return alts.length === 0 ? '' : alts.map((a) => `(${a})`).join(' | ');
}

export interface Bounds { lo: bigint | null; hi: bigint | null; exLo: boolean; exHi: boolean }

const ANY_FRACTION = '("." [0-9]+)?';
const ZERO_FRACTION = '("." "0"+)?';
const NONZERO_FRACTION = '"." [0-9]* [1-9] [0-9]*';

/** Magnitudes m = I.F with m in [lo, hi] (lo ≥ 0; integer bounds; ex* = exclusive). */
function magnitudes(lo: bigint, hi: bigint | null, exLo: boolean, exHi: boolean): string[] {
  const alts: string[] = [];
  const firstWhole = exLo ? lo + 1n : lo;           // integer parts whose whole range [I, I+1) fits
  const lastWhole = hi === null ? null : hi - 1n;
  const whole = naturals(firstWhole, lastWhole);
  if (whole.length > 0) alts.push(`(${whole.join(' | ')}) ${ANY_FRACTION}`);
  if (exLo && (hi === null || lo < hi)) alts.push(`"${lo}" ${NONZERO_FRACTION}`); // just above lo
  if (hi !== null && !exHi && (hi > lo || (hi === lo && !exLo))) alts.push(`"${hi}" ${ZERO_FRACTION}`); // hi itself
  return alts;
}

/** JSON numbers (optional fraction, no exponent) in the bounds, which must be integers. */
export function numberRange(b: Bounds): string {
  const alts: string[] = [];
  const { lo, hi, exLo, exHi } = b;
  if (hi === null || hi > 0n || (hi === 0n && !exHi)) {
    const mLo = lo !== null && lo > 0n ? lo : 0n;
    alts.push(...magnitudes(mLo, hi, lo !== null && lo >= 0n ? exLo : false, exHi));
  }
  if (lo === null || lo < 0n) {
    // v = -m: v ≥ lo ⇔ m ≤ -lo; v ≤ hi ⇔ m ≥ -hi (only a bound when hi ≤ 0)
    const mLo = hi !== null && hi <= 0n ? -hi : 0n;
    const exMLo = hi !== null && hi <= 0n ? exHi : false;
    const mags = magnitudes(mLo, lo === null ? null : -lo, exMLo, exLo);
    if (mags.length > 0) alts.push(`"-" (${mags.map((m) => `(${m})`).join(' | ')})`);
  }
  return alts.length === 0 ? '' : alts.map((a) => `(${a})`).join(' | ');
}
