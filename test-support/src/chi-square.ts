import assert from 'node:assert/strict';

/**
 * Critical values of the chi-square distribution at p = 1e-6, by degrees of freedom (cells - 1): a correct
 * load balancer exceeds them by chance about once in a million checks, while a weight ten points off over
 * 1,000 picks exceeds them twice over (80/20 expected, 70/30 picked: 62.5 against 23.9).
 */
const CRITICAL_P1E6: Readonly<Record<number, number>> = { 1: 23.928, 2: 27.631, 3: 30.664, 4: 33.377 };

/** Pearson's chi-square statistic of observed counts against expected shares (which sum to 1). */
function chiSquare(observed: readonly number[], shares: readonly number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => sum + (o - n * shares[i]!) ** 2 / (n * shares[i]!), 0);
}

/**
 * Asserts that random picks follow the expected shares (Pearson's chi-square below its p = 1e-6 critical
 * value). Returns "chi-square X (df K, bound B)" for the test's diagnostics.
 */
export function assertShares(label: string, observed: readonly number[], shares: readonly number[]): string {
  assert.equal(observed.length, shares.length, `${label}: ${observed.length} counts for ${shares.length} shares`);
  const df = observed.length - 1;
  const bound = CRITICAL_P1E6[df];
  assert.ok(bound !== undefined, `${label}: no chi-square bound for ${df} degrees of freedom`);
  const x2 = chiSquare(observed, shares);
  const summary = `chi-square ${x2.toFixed(2)} (df ${df}, bound ${bound})`;
  assert.ok(x2 < bound, `${label}: counts ${JSON.stringify(observed)} against shares ${JSON.stringify(shares)}: ${summary}`);
  return summary;
}
