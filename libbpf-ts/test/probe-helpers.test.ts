import test from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { requireKernel } from '@ebpf-studio/test-support';
import { probeHelpers, progTypeNumbers } from '../src/kernel/probe-helpers';

const MAP_LOOKUP_ELEM = 1;
const SKB_STORE_BYTES = 9;
const GET_SOCKET_COOKIE = 46;
const XDP_ADJUST_HEAD = 44;
const ALL_HELPERS = Array.from({ length: 211 }, (_, i) => i + 1);

test('progTypeNumbers follows enum bpf_prog_type', () => {
  const numbers = progTypeNumbers();
  assert.equal(numbers.unspec, 0);
  assert.equal(numbers.sched_cls, 3);
  assert.equal(numbers.xdp, 6);
  assert.equal(numbers.cgroup_sock_addr, 18);
});

test('per program type, the helpers this kernel allows', (t) => {
  if (!requireKernel(t)) return;
  const result = probeHelpers(['xdp', 'sched_cls', 'cgroup_sock_addr'], [MAP_LOOKUP_ELEM, SKB_STORE_BYTES, XDP_ADJUST_HEAD, GET_SOCKET_COOKIE]);
  assert.deepEqual(result.xdp, [MAP_LOOKUP_ELEM, XDP_ADJUST_HEAD]);
  assert.deepEqual(result.sched_cls, [MAP_LOOKUP_ELEM, SKB_STORE_BYTES, GET_SOCKET_COOKIE]);
  assert.ok(result.cgroup_sock_addr!.includes(GET_SOCKET_COOKIE));
  assert.ok(!result.cgroup_sock_addr!.includes(SKB_STORE_BYTES));
});

test('unknown program types and helper ids the kernel does not know', (t) => {
  if (!requireKernel(t)) return;
  const result = probeHelpers(['xdp', 'no_such_type', 'struct_ops'], [MAP_LOOKUP_ELEM, 100_000]);
  assert.deepEqual(result, { xdp: [MAP_LOOKUP_ELEM] });
});

test('every helper for twelve program types, timed', (t) => {
  if (!requireKernel(t)) return;
  const types = ['xdp', 'sched_cls', 'sched_act', 'cgroup_sock_addr', 'cgroup_sock', 'cgroup_skb', 'sock_ops', 'sk_msg', 'sk_skb', 'kprobe', 'tracepoint', 'socket_filter'];
  const start = performance.now();
  const result = probeHelpers(types, ALL_HELPERS);
  const ms = performance.now() - start;
  t.diagnostic(`${types.length} program types x ${ALL_HELPERS.length} helpers: ${ms.toFixed(0)} ms`);
  assert.deepEqual(Object.keys(result), types);
  for (const type of types) assert.ok(result[type]!.includes(MAP_LOOKUP_ELEM), `${type} can look up map elements`);
  assert.ok(result.sk_msg!.length > 50 && result.sk_msg!.length < ALL_HELPERS.length);
});
