// assertClose: max|Δ| / max|ref| ≤ tol, with the first mismatches and maxdiff in the message
// (llm.c check_tensor / validate_result).
import type { ExecutionContext } from 'ava';

export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): { rel: number; maxDiff: number; at: number } {
  let maxDiff = 0, maxRef = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) { maxDiff = d; at = i; } // NaN counts as worst
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return { rel: maxDiff / (maxRef || 1), maxDiff, at };
}

export function assertClose(t: ExecutionContext, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  if (actual.length !== expected.length) {
    t.fail(`${label}: length ${actual.length} ≠ expected ${expected.length}`);
    return;
  }
  const { rel, maxDiff, at } = relErr(actual, expected);
  const show = at >= 0 ? ` (worst at [${at}]: got ${actual[at]}, expected ${expected[at]})` : '';
  t.true(rel <= tol, `${label}: max|Δ|/max|ref| = ${rel.toExponential(3)} > ${tol}, maxdiff ${maxDiff}${show}`);
}
