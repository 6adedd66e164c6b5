/** What the VM node tests (vm-kernel-matrix, vm-arm64) do alike inside a guest: time, and count packets with tc on a veth. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf, eventually, tempDir } from '@ebpf-studio/test-support';
import type { AgentClient } from '../src/controller/agent-client';
import { SessionController } from '../src/controller/session-controller';
import { MapDumpRequest, type AttachmentInfo } from '../src/session-protocol';
import { KERNEL_MATRIX } from './kernel-matrix-support';

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Runs a shell script in the guest (the guest's own sh, as root). */
export type GuestShell = (script: string) => Promise<string>;

export interface TcCount {
  attached: AttachmentInfo;
  /** UDP packets counted after 10, then after 15 more. */
  first: number;
  second: number;
}

/**
 * In the guest: a veth pair `<prefix>0` (192.0.2.1/30) ↔ `<prefix>1` in the namespace `<prefix>-peer`;
 * tc-count-protocols attached by the agent as a tc ingress program on `<prefix>0` in a session named
 * `session`; 10 then 15 UDP datagrams from the peer, counted in packets_by_proto. `inSession` checks
 * more right after the attach, while the program is attached (given the object, base64). Closing the session must leave no filter and no program; the
 * namespace (and so the veth) is removed in any case.
 */
export async function countUdpWithTc(agent: AgentClient, run: GuestShell, prefix: string, session: string, inSession?: (attached: AttachmentInfo, s: SessionController, object: string) => Promise<void>): Promise<TcCount> {
  const object = readFileSync(compileBpf(join(KERNEL_MATRIX, 'tc-count-protocols.bpf.c'), tempDir())).toString('base64');
  const [iface, peer, netns] = [`${prefix}0`, `${prefix}1`, `${prefix}-peer`];
  await run(`ip netns add ${netns} && ip link add ${iface} type veth peer name ${peer} netns ${netns} && ip addr add 192.0.2.1/30 dev ${iface} && ip link set ${iface} up && ip -n ${netns} addr add 192.0.2.2/30 dev ${peer} && ip -n ${netns} link set ${peer} up`);
  const sendUdp = (count: number): Promise<string> => run(`ip netns exec ${netns} bash -c 'for i in $(seq ${count}); do echo x > /dev/udp/192.0.2.1/9; done'`);
  try {
    const s = await SessionController.open(agent, { name: session, leaseMs: 30_000 });
    let count: TcCount;
    try {
      const attached = await s.attach({ object, program: 'count_protocols', target: { kind: 'tc', iface, direction: 'ingress' } });
      assert.match(await run(`tc filter show dev ${iface} ingress`), /count_protocols.* direct-action/);
      await inSession?.(attached, s, object);
      const udpPackets = async (): Promise<number> => {
        const dump = await agent.request(MapDumpRequest, { id: s.handle.id, map: 'packets_by_proto' });
        return Number(dump.entries.find((e) => e.key === 17)?.value ?? 0);
      };
      await sendUdp(10);
      const first = await udpPackets();
      assert.ok(first >= 10, `${first} UDP packets counted after sending 10`);
      await sendUdp(15);
      const second = await udpPackets();
      assert.ok(second >= first + 15, `the counter grows: ${first} → ${second}`);
      count = { attached, first, second };
    } finally {
      await s.close();
    }
    assert.equal((await run(`tc filter show dev ${iface} ingress`)).trim(), '', 'no tc filter left');
    const net = JSON.parse(await run(`bpftool -j net show dev ${iface}`)) as { tc?: unknown[] }[];
    assert.deepEqual(net[0]?.tc ?? [], [], `bpftool net lists nothing on ${iface}`);
    assert.ok(await eventually(async () => !/count_protocols/.test(await run('bpftool prog show')), 10_000), 'the program is gone');
    return count;
  } finally {
    await run(`ip netns del ${netns}`);
  }
}
