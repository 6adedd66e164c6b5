import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { formatValue, mapDump } from '@ebpf-studio/libbpf-ts';
import { createNetns, eventually, requireKernel, type TestNetns } from '@ebpf-studio/test-support';
import { attachTemplate, counterTotals, fixture, jsonLines, type AttachedTemplate } from './template-socket-harness';

/**
 * same-node-sockredir with real sockets: an echo server and its client, both inside the test cgroup
 * (sockops attached there, sk_msg on the sockhash), exchange 1 MiB each way.
 */

const NAME = 'same-node-sockredir';
const ECHO_PAIR = fixture(NAME, 'echo-pair.js');
const PAYLOAD = 1 << 20;

interface Exchanged {
  intact: boolean;
  bytes: number;
  serverPort: number;
  clientPort: number;
}
interface SockKey {
  local_port: number;
  remote_port: number;
  family: number;
}

function sockhashKeys(attached: AttachedTemplate): SockKey[] {
  const spec = attached.spec.maps.find((m) => m.name === 'sr_sockhash')!;
  return mapDump(attached.object.map('sr_sockhash').fd).entries.map((e) => formatValue(attached.spec.btf!, spec.keyTypeId!, e.key) as SockKey);
}

async function exchange(t: TestContext, host: string, netns?: TestNetns): Promise<void> {
  const attached = attachTemplate(NAME);
  try {
    const args = [ECHO_PAIR, host, String(PAYLOAD)];
    const child = netns ? attached.cgroup.spawn('nsenter', [`--net=${netns.path}`, 'node', ...args]) : attached.cgroup.spawn('node', args);
    const next = jsonLines(child);
    const result = await next<Exchanged>();
    assert.equal(result.intact, true, 'the echoed payload is byte-for-byte what was sent');
    assert.equal(result.bytes, PAYLOAD);

    const keys = sockhashKeys(attached);
    const ports = keys.map((k) => `${k.local_port}->${k.remote_port}`).sort();
    assert.deepEqual(ports, [`${result.clientPort}->${result.serverPort}`, `${result.serverPort}->${result.clientPort}`].sort(), 'the sockhash holds both ends while they are open');
    const stats = counterTotals(attached, 'sr_stats');
    t.diagnostic(`sr_stats: ${JSON.stringify(stats)}`);
    assert.equal(stats['sockets_added'], 2);
    assert.equal(stats['bytes_redirected'], 2 * PAYLOAD, 'every byte, both ways, went socket to socket');
    assert.equal(stats['msgs_passed'], 0);

    child.stdin!.write('close\n');
    assert.deepEqual(await next(), { closed: true });
    assert.ok(await eventually(() => sockhashKeys(attached).length === 0, 10_000), `closed sockets leave the sockhash (left: ${JSON.stringify(sockhashKeys(attached))})`);
  } finally {
    attached.close();
  }
}

describe('same-node-sockredir: real sockets in a test cgroup', () => {
  test('IPv4 on 127.0.0.1: payload intact across the redirect, both ends in the sockhash, gone after close', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    await exchange(t, '127.0.0.1');
  });

  test('IPv6 on ::1 inside a test namespace', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    const netns = createNetns('sr6');
    try {
      await exchange(t, '::1', netns);
    } finally {
      netns.remove();
    }
  });
});
