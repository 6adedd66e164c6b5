import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVerifierLog } from '@ebpf-studio/libbpf-ts';
import { releasedBefore } from '../src/engine/released-reference';

const LOG = ['12: (85) call bpf_sk_lookup_tcp#84', '13: (15) if r0 == 0x0 goto pc+4', '14: (bf) r1 = r0', '15: (85) call bpf_sk_release#86', '16: (bf) r1 = r6'];

test('a release call before a second release, or before a dereference, is found', () => {
  const again = releasedBefore(parseVerifierLog([...LOG, '17: (85) call bpf_sk_release#86', 'R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_'].join('\n')));
  assert.deepEqual([again?.helper, again?.record.idx], ['bpf_sk_release', 15]);
  const used = releasedBefore(parseVerifierLog([...LOG, '17: (61) r1 = *(u32 *)(r6 +4)', "R6 invalid mem access 'scalar'"].join('\n')));
  assert.equal(used?.record.idx, 15);
});

test('not without a release on the path, and not for a scalar passed to a helper that releases nothing', () => {
  assert.equal(releasedBefore(parseVerifierLog([...LOG.slice(0, 3), '17: (61) r1 = *(u32 *)(r6 +4)', "R6 invalid mem access 'scalar'"].join('\n'))), undefined);
  assert.equal(releasedBefore(parseVerifierLog([...LOG, '17: (85) call bpf_map_lookup_elem#1', 'R1 type=scalar expected=map_ptr'].join('\n'))), undefined);
});
