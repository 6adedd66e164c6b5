import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBpfObject } from '@ebpf-studio/libbpf-ts';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { contextField, describeContextAccess } from '../src/engine/context-fields';

/** An object whose BTF has the context structs of a cgroup/connect4 and a tc program. */
function contexts(): ReturnType<typeof readBpfObject>['spec']['btf'] {
  const dir = tempDir();
  const source = join(dir, 'contexts.bpf.c');
  writeFileSync(source, `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/connect4") int c4(struct bpf_sock_addr *ctx) { return ctx->user_port != 0; }
SEC("tc") int tc_mark(struct __sk_buff *skb) { return skb->mark; }
char LICENSE[] SEC("license") = "GPL";
`);
  return readBpfObject(readFileSync(compileBpf(source, dir))).spec.btf;
}

test('a context offset names its field from the object BTF, looking into anonymous unions', () => {
  const btf = contexts();
  assert.deepEqual(contextField(btf, 'cgroup_sock_addr', 24), { struct: 'bpf_sock_addr', field: 'user_port', offset: 24, size: 4 });
  assert.deepEqual(contextField(btf, 'sched_cls', 168), { struct: '__sk_buff', field: 'sk', offset: 168, size: 8 }, '__bpf_md_ptr(struct bpf_sock *, sk)');
  assert.equal(contextField(btf, 'cgroup_sock_addr', 4096), undefined);
  assert.equal(contextField(btf, 'xdp', 0), undefined, 'struct xdp_md is not in this object');
  assert.equal(contextField(undefined, 'sched_cls', 0), undefined);
});

test('the access is described with its width when it differs from the field', () => {
  const btf = contexts();
  assert.equal(describeContextAccess(btf, 'cgroup_sock_addr', 'invalid bpf_context access off=24 size=2'), 'off=24 is user_port (4 bytes) of struct bpf_sock_addr, accessed 2 bytes wide');
  assert.equal(describeContextAccess(btf, 'cgroup_sock_addr', 'invalid bpf_context access off=26 size=2'), 'off=26 is user_port (4 bytes) of struct bpf_sock_addr, accessed 2 bytes wide (2 bytes into it)');
  assert.equal(describeContextAccess(btf, 'cgroup_sock_addr', 'invalid bpf_context access off=40 size=4'), 'off=40 is msg_src_ip4 (4 bytes) of struct bpf_sock_addr');
  assert.equal(describeContextAccess(btf, 'cgroup_sock_addr', 'R1 invalid mem access'), undefined);
});
