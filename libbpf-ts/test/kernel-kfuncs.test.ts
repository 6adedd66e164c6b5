import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';
import { BpfError } from '../src/errors';
import { readKernelKfuncs } from '../src/kernel/kernel-kfuncs';

test('the running kernel\'s kfuncs, from /sys/kernel/btf/vmlinux', (t) => {
  if (!requireKernel(t)) return;
  const { btf, kfuncs } = readKernelKfuncs();
  assert.equal(btf, true);
  if (kfuncs.length === 0) {
    t.skip('this kernel\'s BTF has no bpf_kfunc decl tags (built with pahole < 1.26)');
    return;
  }
  const acquire = kfuncs.find((k) => k.name === 'bpf_task_acquire');
  if (acquire) assert.deepEqual({ ...acquire, btfId: 0 }, { name: 'bpf_task_acquire', btfId: 0, returnType: 'struct task_struct *', params: [{ type: 'struct task_struct *', name: 'p' }] });
  assert.ok(!kfuncs.some((k) => k.name === 'bpf_map_lookup_elem'), 'helpers are not kfuncs');
});

test('a kernel without BTF has no kfuncs; BTF that cannot be read or parsed is an error, not "none"', () => {
  const dir = tempDir();
  assert.deepEqual(readKernelKfuncs(join(dir, 'vmlinux')), { btf: false, kfuncs: [] });
  const garbage = join(dir, 'garbage');
  writeFileSync(garbage, 'not BTF at all');
  assert.throws(() => readKernelKfuncs(garbage), (err: unknown) => err instanceof BpfError && /cannot be parsed: .*no BTF magic/.test(err.message));
  assert.throws(() => readKernelKfuncs(dir), (err: unknown) => err instanceof BpfError && /cannot read the kernel's BTF .*EISDIR/.test(err.message));
});
