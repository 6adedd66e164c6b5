import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVerifierLog } from '@ebpf-studio/libbpf-ts';
import { mapArgumentAdvice, mapArgumentTooSmall } from '../src/engine/map-argument-size';

const LOG = [
  '1: (63) *(u32 *)(r10 -4) = r1         ; R1=scalar() R10=fp0 fp-8=mmmm????',
  '2: (bf) r2 = r10                      ; R2=fp0 R10=fp0',
  '3: (07) r2 += -4                      ; R2=fp-4',
  '4: (18) r1 = 0xffff88823fdd7000       ; R1=map_ptr(map=by_cookie,ks=8,vs=16)',
  '6: (85) call bpf_map_lookup_elem#1',
];

test('a key variable smaller than the map key: the helper, the map and its key size', () => {
  const found = mapArgumentTooSmall(parseVerifierLog([...LOG, 'invalid read from stack R2 off=-4 size=8'].join('\n')));
  assert.deepEqual(found, { helper: 'bpf_map_lookup_elem', map: 'by_cookie', what: 'key', size: 8 });
  assert.match(mapArgumentAdvice(found!).fix, /^Declare the key as `__u64`, the map's key type \(8 bytes\)/);
  assert.match(mapArgumentAdvice(found!, 'struct sock_key').fix, /^Declare the key as `struct sock_key`, the map's key type/);
  assert.match(mapArgumentAdvice({ ...found!, size: 12 }).fix, /^Declare the key with the map's own key type \(12 bytes\)/);
});

test('not for a read of another size than the map key, another helper or another message', () => {
  assert.equal(mapArgumentTooSmall(parseVerifierLog([...LOG, 'invalid read from stack R2 off=-4 size=4'].join('\n'))), undefined);
  assert.equal(mapArgumentTooSmall(parseVerifierLog([...LOG.slice(0, 4), '6: (85) call bpf_probe_read_kernel#113', 'invalid read from stack R2 off=-4 size=8'].join('\n'))), undefined);
  assert.equal(mapArgumentTooSmall(parseVerifierLog([...LOG, "R2 invalid mem access 'scalar'"].join('\n'))), undefined);
});
