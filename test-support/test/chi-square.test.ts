import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertShares } from '../src';

test('assertShares passes counts near the shares and rejects a weight ten points off', () => {
  assert.match(assertShares('80/20', [806, 194], [0.8, 0.2]), /^chi-square 0\.\d+ \(df 1, bound 23\.928\)$/);
  assert.match(assertShares('40/40/20', [4103, 3857, 2040], [0.4, 0.4, 0.2]), /df 2, bound 27\.631/);
  assert.throws(() => assertShares('80/20', [700, 300], [0.8, 0.2]), /80\/20: counts \[700,300\] against shares \[0\.8,0\.2\]: chi-square 62\.50/);
  assert.throws(() => assertShares('two shares', [1, 2, 3], [0.5, 0.5]), /3 counts for 2 shares/);
  assert.throws(() => assertShares('many cells', [1, 1, 1, 1, 1, 1], [0.2, 0.2, 0.2, 0.2, 0.1, 0.1]), /no chi-square bound for 5 degrees of freedom/);
});
