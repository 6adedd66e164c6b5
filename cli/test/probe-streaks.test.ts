import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProbeStreaks } from '../src/run-state/probe-streaks';

const A = '127.0.0.1:18080';
const B = '127.0.0.1:18081';
const none = new Set<string>();

test('a backend is down after `failures` unanswered probes in a row, and up at its first answer', () => {
  const streaks = new ProbeStreaks();
  const missed = new Map([[A, 'ECONNREFUSED']]);
  assert.deepEqual([...streaks.record('orders', missed, 3, none).keys()], [], 'one miss');
  assert.deepEqual([...streaks.record('orders', missed, 3, none).keys()], [], 'two misses');
  const down = streaks.record('orders', missed, 3, none);
  assert.deepEqual([...down], [[A, 'ECONNREFUSED; 3 unanswered in a row']]);
  assert.deepEqual([...streaks.record('orders', missed, 3, new Set([A])).keys()], [A], 'still down while it does not answer');
  assert.deepEqual([...streaks.record('orders', new Map(), 3, new Set([A])).keys()], [], 'up at its first answer');
  assert.deepEqual([...streaks.record('orders', missed, 3, none).keys()], [], 'the streak started over');
});

test('an answer between misses breaks the streak; services and backends count apart', () => {
  const streaks = new ProbeStreaks();
  const missA = new Map([[A, 'no answer within 500 ms']]);
  streaks.record('orders', missA, 2, none);
  assert.deepEqual([...streaks.record('orders', new Map([[B, 'ECONNREFUSED']]), 2, none).keys()], [], 'A answered, B missed once');
  assert.deepEqual([...streaks.record('payments', missA, 2, none).keys()], [], 'another service has its own streaks');
  assert.deepEqual([...streaks.record('orders', new Map([[A, 'x'], [B, 'y']]), 2, none).keys()], [B]);
});

test('a backend marked down before (by the start-up round) stays down while it does not answer', () => {
  const streaks = new ProbeStreaks();
  assert.deepEqual([...streaks.record('orders', new Map([[A, 'ECONNREFUSED']]), 2, new Set([A]))], [[A, 'ECONNREFUSED; 1 unanswered in a row']]);
  assert.deepEqual([...streaks.record('orders', new Map([[A, 'ECONNREFUSED']]), 1, none).keys()], [A], 'failures: 1 marks at the first miss');
});
