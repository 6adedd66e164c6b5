import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tempDir } from '@ebpf-studio/test-support';
import { VMLINUX_BTF } from '@ebpf-studio/libbpf-ts';
import { kernelKfuncs, kfuncsFromBtf } from '../src/knowledge/kfuncs';

test('kfuncs of the running kernel, with signatures', (t) => {
  if (!existsSync(VMLINUX_BTF)) {
    t.skip(`no ${VMLINUX_BTF}`);
    return;
  }
  const start = performance.now();
  const kfuncs = kfuncsFromBtf(readFileSync(VMLINUX_BTF));
  t.diagnostic(`${kfuncs.length} kfuncs from ${VMLINUX_BTF} in ${(performance.now() - start).toFixed(0)} ms`);
  if (kfuncs.length === 0) {
    t.skip('this kernel\'s BTF has no bpf_kfunc decl tags (built with pahole < 1.26)');
    return;
  }
  const acquire = kfuncs.find((k) => k.name === 'bpf_task_acquire');
  if (acquire) {
    assert.equal(acquire.signature, 'struct task_struct *bpf_task_acquire(struct task_struct *p)');
    assert.equal(acquire.returnType, 'struct task_struct *');
    assert.deepEqual(acquire.params, [{ type: 'struct task_struct *', name: 'p' }]);
  }
  const rbtreeAdd = kfuncs.find((k) => k.name === 'bpf_rbtree_add_impl');
  if (rbtreeAdd) assert.match(rbtreeAdd.signature, /bool \(\*less\)\(struct bpf_rb_node \*, const struct bpf_rb_node \*\)/);
  const names = kfuncs.map((k) => k.name);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  assert.equal(new Set(names).size, names.length, 'each kfunc once');
  assert.ok(!names.includes('bpf_map_lookup_elem'), 'helpers are not kfuncs');
});

test('kernelKfuncs caches per release, in memory and on disk', (t) => {
  if (!existsSync(VMLINUX_BTF)) {
    t.skip(`no ${VMLINUX_BTF}`);
    return;
  }
  const dir = tempDir();
  const first = kernelKfuncs({ release: 'test-release', cacheDir: dir });
  assert.equal(kernelKfuncs({ release: 'test-release', btfPath: '/nonexistent' }), first, 'memory cache by release');
  assert.deepEqual(readdirSync(dir), ['kfuncs-test-release.json']);
  assert.deepEqual(kernelKfuncs({ release: 'other-release', btfPath: '/nonexistent' }), []);
});

test('odd BTF gives no kfuncs rather than an error', () => {
  assert.deepEqual(kfuncsFromBtf(new Uint8Array(0)), []);
  assert.deepEqual(kfuncsFromBtf(new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0])), []);
});
