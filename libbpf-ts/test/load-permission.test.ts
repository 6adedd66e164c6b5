import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAPABILITIES, capabilityNames, effectiveCapabilities, loadEpermReason, noBpfCapability, NotSupportedError } from '../src/index';

const caps = (...names: string[]): Set<number> => new Set(names.map((n) => CAPABILITIES[n]!));

test('a loader without CAP_BPF or CAP_SYS_ADMIN cannot verify anything: one error for the run, naming the fix', () => {
  const error = noBpfCapability(caps('net_admin', 'perfmon'));
  assert.ok(error instanceof NotSupportedError);
  assert.match(error.message, /loading BPF programs \(EPERM\)/);
  assert.match(error.fix ?? '', /run as root/);
  assert.equal(noBpfCapability(caps('bpf')), undefined);
  assert.equal(noBpfCapability(caps('sys_admin')), undefined);
});

test('EPERM for a program type whose capability the loader lacks names that capability', () => {
  assert.equal(loadEpermReason('tracepoint', caps('bpf', 'net_admin'), 'none'), 'EPERM — tracepoint programs need CAP_PERFMON, which this loader does not hold');
  assert.equal(loadEpermReason('xdp', caps('bpf', 'perfmon'), 'none'), 'EPERM — xdp programs need CAP_NET_ADMIN, which this loader does not hold');
  assert.match(loadEpermReason('tracing', caps('bpf'), 'none'), /need CAP_PERFMON, which/);
});

test('EPERM although the loader holds what the type takes: the kernel forbids it, with the lockdown mode when known', () => {
  const reason = loadEpermReason('tracing', caps('bpf', 'perfmon'), 'integrity');
  assert.equal(reason, 'EPERM although this loader holds CAP_BPF, CAP_PERFMON — kernel lockdown (integrity) or a security module (LSM) forbids it');
  assert.match(loadEpermReason('sched_cls', caps('sys_admin'), 'unknown'), /^EPERM although this loader holds CAP_SYS_ADMIN — .*or this kernel cannot attach it$/);
  // CAP_SYS_ADMIN stands for CAP_PERFMON and CAP_NET_ADMIN
  assert.doesNotMatch(loadEpermReason('kprobe', caps('bpf', 'sys_admin'), 'none'), /need/);
});

test('effectiveCapabilities reads this thread\'s mask: it agrees with /proc about CAP_BPF', async () => {
  const { readFileSync } = await import('node:fs');
  const mask = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  const held = effectiveCapabilities();
  for (const cap of [CAPABILITIES['bpf']!, CAPABILITIES['net_admin']!, CAPABILITIES['sys_admin']!]) assert.equal(held.has(cap), ((mask >> BigInt(cap)) & 1n) === 1n);
  assert.equal(capabilityNames([CAPABILITIES['bpf']!, CAPABILITIES['perfmon']!]), 'CAP_BPF, CAP_PERFMON');
});
