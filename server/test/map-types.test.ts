import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mapTypeUse } from '../src/engine/map-types';

test('map type numbers follow enum bpf_map_type of the installed linux/bpf.h', () => {
  const header = readFileSync('/usr/include/linux/bpf.h', 'utf8');
  const body = /enum bpf_map_type \{([\s\S]*?)\};/.exec(header)![1]!;
  // positional entries only (newer headers add aliases such as `CGROUP_STORAGE = CGROUP_STORAGE_DEPRECATED`)
  const names = [...body.matchAll(/^\s*BPF_MAP_TYPE_(\w+)\s*,/gm)].map((m) => m[1]!.replace(/_DEPRECATED$/, ''));
  assert.ok(names.length >= 30, `enum read: ${names.length} types`);
  names.forEach((name, i) => assert.match(mapTypeUse(i) ?? '', new RegExp(`^a BPF_MAP_TYPE_${name}\\b`), `map_type ${i}`));
});

test('the special map types say which helpers use them', () => {
  assert.equal(mapTypeUse(27), 'a BPF_MAP_TYPE_RINGBUF: programs write to it with bpf_ringbuf_output() or bpf_ringbuf_reserve() and bpf_ringbuf_submit(); it has no elements to look up');
  assert.match(mapTypeUse(18)!, /bpf_sock_hash_update\(\).*bpf_msg_redirect_hash\(\)/);
  assert.equal(mapTypeUse(1), 'a BPF_MAP_TYPE_HASH');
  assert.equal(mapTypeUse(9999), undefined);
});
