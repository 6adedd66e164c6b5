import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVerifierLog } from '@ebpf-studio/libbpf-ts';
import { packetChangingCall } from '../src/engine/packet-invalidation';

const log = (...lines: string[]): ReturnType<typeof parseVerifierLog> => parseVerifierLog(lines.join('\n'));

test('a packet-changing call on the failing path is found, with its helper', () => {
  const found = packetChangingCall(log(
    '0: (bf) r6 = r1',
    '1: (85) call bpf_xdp_adjust_head#44',
    '2: (15) if r0 != 0x0 goto pc+2',
    '3: (71) r3 = *(u8 *)(r7 +0)',
    "R7 invalid mem access 'scalar'",
  ));
  assert.equal(found?.helper, 'bpf_xdp_adjust_head');
  assert.equal(found?.record.idx, 1);
});

test('a call on another path (before a resumed branch) is not taken for the cause', () => {
  assert.equal(packetChangingCall(log(
    '0: (61) r2 = *(u32 *)(r1 +0)',
    '1: (15) if r2 == 0x0 goto pc+3',
    '2: (85) call bpf_skb_pull_data#39',
    '3: (b7) r0 = 0',
    '4: (95) exit',
    'from 1 to 5: R1=ctx() R10=fp0',
    '5: (71) r3 = *(u8 *)(r6 +0)',
    "R6 invalid mem access 'scalar'",
  )), undefined);
});

test('other errors and calls of other helpers are not taken', () => {
  assert.equal(packetChangingCall(log('0: (85) call bpf_xdp_adjust_head#44', "1: (71) r3 = *(u8 *)(r6 +0)", "R6 invalid mem access 'map_value_or_null'")), undefined);
  assert.equal(packetChangingCall(log('0: (85) call bpf_ktime_get_ns#5', "1: (71) r3 = *(u8 *)(r6 +0)", "R6 invalid mem access 'scalar'")), undefined);
});
