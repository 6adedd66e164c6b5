import test from 'node:test';
import assert from 'node:assert/strict';
import { matchSection, progTypeOfSection, sectionCompletions } from '../src/knowledge/sections';

test('SEC names map to libbpf program types', () => {
  assert.equal(progTypeOfSection('xdp'), 'xdp');
  assert.equal(progTypeOfSection('tc'), 'sched_cls');
  assert.equal(progTypeOfSection('cgroup/connect4'), 'cgroup_sock_addr');
  assert.equal(progTypeOfSection('sockops'), 'sock_ops');
  assert.equal(progTypeOfSection('kprobe/tcp_v4_connect'), 'kprobe');
  assert.equal(progTypeOfSection('license'), undefined);
  assert.equal(matchSection('tcx/ingress')?.known, false);
});

test('SEC completions by prefix', () => {
  const names = sectionCompletions('cgroup/conn').map((s) => s.name);
  assert.ok(names.includes('cgroup/connect4') && names.includes('cgroup/connect6'));
  assert.ok(names.every((n) => n.startsWith('cgroup/conn')));
  assert.ok(sectionCompletions('').length > 50);
  assert.deepEqual(sectionCompletions('zzz'), []);
});
