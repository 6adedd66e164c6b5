import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileBpf, createNetnsPair, eventually, kernelAvailable, requireKernel, tempDir, type NetnsPair } from '@ebpf-studio/test-support';
import {
  DetachRequest,
  MapDumpRequest,
  PersistentListRequest,
  PersistentRemoveRequest,
  SessionCloseRequest,
  SessionListRequest,
  SessionResumeRequest,
  SessionController,
  startLocalAgent,
  type AgentClient,
  type AttachmentInfo,
} from '../src/index';

const OBJECT = () => readFileSync(compileBpf(join(__dirname, '..', '..', 'test', 'data', 'xdp-count.bpf.c'), tempDir())).toString('base64');
const ICMP = 1;

function linkExists(linkId: number | undefined): boolean {
  const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { id: number }[];
  return links.some((l) => l.id === linkId);
}

describe('sessions on this machine (real kernel, a veth in a test namespace)', () => {
  let pair: NetnsPair | undefined;
  let agent: AgentClient | undefined;
  let other: AgentClient | undefined;
  let object = '';
  before(() => {
    if (!kernelAvailable()) return;
    process.env['EBPF_STUDIO_RUN_DIR'] = tempDir('ebpf-studio-run-');
    pair = createNetnsPair({ tag: 'sess' });
    const wrapper = ['nsenter', `--net=${pair.a.netns!.path}`];
    agent = startLocalAgent({ wrapper });
    other = startLocalAgent({ wrapper });
    object = OBJECT();
  });
  after(async () => {
    for (const s of (await other?.request(SessionListRequest).catch(() => [])) ?? []) {
      await other?.request(DetachRequest, { id: s.id }).catch(() => undefined);
    }
    agent?.dispose();
    other?.dispose();
    pair?.remove();
  });

  const ping = (): void => {
    pair!.b.netns!.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', pair!.a.address]);
  };

  test('attach XDP in a session: real packets are counted, and closing the session detaches at once', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: 'count', leaseMs: 3000 });
    let info: AttachmentInfo | undefined;
    try {
      info = await session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: pair!.a.ifname } });
      assert.equal(info.mechanism, 'link');
      assert.ok(linkExists(info.linkId), 'the kernel lists the link');
      ping();
      const dump = await other!.request(MapDumpRequest, { id: session.handle.id, map: 'packets_by_proto' });
      const icmp = dump.entries.find((e) => e.key === ICMP);
      assert.ok(icmp && Number(icmp.value) >= 3, `ICMP packets counted: ${JSON.stringify(icmp)}`);
    } finally {
      await session.close();
    }
    assert.ok(await eventually(() => !linkExists(info.linkId), 3000), 'the link is gone after close');
  });

  test('without heartbeats the lease runs out and everything is rolled back', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: 'abandoned', leaseMs: 3000 });
    const info = await session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: pair!.a.ifname } });
    session.abandon();
    assert.ok(linkExists(info.linkId), 'attached until the lease runs out');
    assert.ok(await eventually(() => !linkExists(info.linkId), 10_000), 'the link is gone after the lease');
    const sessions = await other!.request(SessionListRequest);
    assert.ok(!sessions.some((s) => s.id === session.handle.id), 'the session is gone from the list');
  });

  test('another connection lists, resumes only with the token, and detaches', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: 'shared', leaseMs: 3000 });
    t.after(() => other!.request(SessionCloseRequest, session.handle).catch(() => undefined));
    const info = await session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: pair!.a.ifname } });
    const listed = (await other!.request(SessionListRequest)).find((s) => s.id === session.handle.id);
    assert.equal(listed?.name, 'shared');
    assert.deepEqual(listed?.attachments.map((a) => a.id), [info.id]);
    await assert.rejects(other!.request(SessionResumeRequest, { id: session.handle.id, token: '00'.repeat(32) }), /wrong token/);
    const resumed = await session.resume(other!);
    assert.equal(resumed.id, session.handle.id);
    const detached = await other!.request(DetachRequest, { id: session.handle.id, attachment: info.id });
    assert.deepEqual(detached, [info.id]);
    assert.ok(await eventually(() => !linkExists(info.linkId), 3000));
    session.abandon();
  });

  test('a session process killed with SIGKILL leaves nothing attached', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: 'killed', leaseMs: 30_000 });
    const info = await session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: pair!.a.ifname } });
    process.kill(session.handle.pid, 'SIGKILL');
    session.abandon();
    assert.ok(await eventually(() => !linkExists(info.linkId), 3000));
    const sessions = await other!.request(SessionListRequest);
    assert.ok(!sessions.some((s) => s.id === session.handle.id), 'its leftovers are swept when sessions are listed');
  });

  test('a persistent session leaves its attachment pinned after it ends, until it is removed on purpose', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: `keep-${process.pid}`, leaseMs: 3000, persistent: true });
    const info = await session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: pair!.a.ifname } });
    assert.match(info.pinned ?? '', new RegExp(`^/sys/fs/bpf/ebpf-studio/keep-${process.pid}/count_packets-`));
    try {
      await session.close();
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(linkExists(info.linkId), 'still attached after the session ended');
      const pinned = (await other!.request(PersistentListRequest)).find((p) => p.path === info.pinned);
      assert.equal(pinned?.linkId, info.linkId);
      assert.equal(pinned?.type, 'xdp');
      await assert.rejects(other!.request(PersistentRemoveRequest, { path: '/sys/fs/bpf/something-else' }), /not a persistent attachment/);
    } finally {
      await other!.request(PersistentRemoveRequest, { path: info.pinned! }).catch(() => undefined);
    }
    assert.ok(await eventually(() => !linkExists(info.linkId), 3000), 'removing the pin detaches');
  });

  test('names that could reach a shell are refused before anything runs', async (t) => {
    if (!requireKernel(t)) return;
    const session = await SessionController.open(agent!, { name: 'bad-input', leaseMs: 3000 });
    try {
      await assert.rejects(session.attach({ object, program: 'count_packets', target: { kind: 'xdp', iface: 'eth0;reboot' } }), /not an interface name/);
      await assert.rejects(other!.request(MapDumpRequest, { id: '../../etc', map: 'x' }), /not a session id/);
    } finally {
      await session.close();
    }
  });
});
