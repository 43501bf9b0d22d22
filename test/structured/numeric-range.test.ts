// Bounded numbers: the EBNF from numeric-range.ts, run by xgrammar's own matcher, accepts exactly
// the number texts whose value lies within the bounds (the predicate below is plain arithmetic).
import test from 'ava';
import { integerRange, numberRange, type Bounds } from '../../src/structured/numeric-range.js';
import { loadXgrammar } from '../../src/structured/xgrammar.js';

const xg = loadXgrammar(() => {});

async function accepts(expr: string, texts: string[]): Promise<boolean[]> {
  const g = await xg.Grammar.fromEBNF(`root ::= ${expr}`);
  try {
    const out: boolean[] = [];
    for (const s of texts) out.push(await xg.Testings.isGrammarAcceptString(g, s));
    return out;
  } finally {
    g.dispose();
  }
}

// every integer text in [-260, 260], leading zeros, "-0", and long ones
const INT_TEXTS = [...Array.from({ length: 521 }, (_, i) => String(i - 260)), '-0', '007', '00', '1000', '99999', '-1000', '123456789012'];

test('integerRange accepts exactly the integers in [lo, hi] (JSON form: no leading zeros)', async (t) => {
  const cases: Array<[bigint | null, bigint | null]> = [
    [0n, 120n], [1n, 10n], [-5n, 5n], [-120n, -7n], [13n, 13n], [0n, 0n], [100n, 199n], [-250n, 250n],
    [7n, null], [null, 42n], [null, -3n], [-15n, null], [null, null], [10n, 9n],
  ];
  for (const [lo, hi] of cases) {
    const expr = integerRange(lo, hi);
    if (expr === '') {
      t.true(lo !== null && hi !== null && hi < lo, `empty only for an empty range [${lo}, ${hi}]`);
      continue;
    }
    const got = await accepts(expr, INT_TEXTS);
    INT_TEXTS.forEach((s, i) => {
      const json = /^-?(0|[1-9][0-9]*)$/.test(s) && s !== '-0';
      const v = BigInt(s);
      const want = json && (lo === null || v >= lo) && (hi === null || v <= hi);
      t.is(got[i], want, `[${lo}, ${hi}] on ${s}`);
    });
  }
});

const NUM_TEXTS = [
  ...INT_TEXTS.filter((s) => Math.abs(Number(s)) <= 130), '0.5', '1.0', '1.5', '1.00', '0.999', '120.0', '120.01', '119.99',
  '-0.5', '-1.0', '-1.5', '-0.0', '0.0', '2.000', '3.1', '-3.1', '-2.5', '-2.0', '10.5', '9.99', '1e2', '1.', '.5', '-', '01.5',
];

function within(s: string, b: Bounds): boolean {
  if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s)) return false; // JSON, no exponent
  const v = Number(s);
  const lo = b.lo === null ? null : Number(b.lo), hi = b.hi === null ? null : Number(b.hi);
  if (lo !== null && (b.exLo ? v <= lo : v < lo)) return false;
  if (hi !== null && (b.exHi ? v >= hi : v > hi)) return false;
  return true;
}

test('numberRange accepts exactly the decimal numbers within integer bounds, exclusive or not', async (t) => {
  const cases: Bounds[] = [];
  const pairs: Array<[bigint | null, bigint | null]> = [[0n, 1n], [0n, 120n], [-1n, 1n], [-3n, -1n], [2n, null], [null, 0n], [null, -2n], [-2n, 0n], [5n, 5n], [0n, 10n]];
  for (const [lo, hi] of pairs) for (const exLo of [false, true]) for (const exHi of [false, true]) cases.push({ lo, hi, exLo: exLo && lo !== null, exHi: exHi && hi !== null });
  for (const b of cases) {
    const expr = numberRange(b);
    const name = `${b.exLo ? '(' : '['}${b.lo}, ${b.hi}${b.exHi ? ')' : ']'}`;
    if (expr === '') {
      t.true(NUM_TEXTS.every((s) => !within(s, b)), `empty grammar only when nothing fits ${name}`);
      continue;
    }
    const got = await accepts(expr, NUM_TEXTS);
    // "-0", "-0.0": the value 0, which the grammar may spell without the sign; either is valid JSON for 0
    NUM_TEXTS.forEach((s, i) => { if (!/^-0(\.0+)?$/.test(s)) t.is(got[i], within(s, b), `${name} on ${s}`); });
  }
});
