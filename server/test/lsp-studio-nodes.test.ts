import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestNodes, ensurePayloadBuilt, eventually, kernelAvailable, requireKernel, type TestNode, type TestNodes } from '@ebpf-studio/test-support';
import { StudioMethods, type AttachResult, type DetachResult, type MapsResult, type NodeSummary, type TraceEvents, type TraceStartResult, type VerifyOnResult } from '../src/lsp/studio-protocol';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const DATA = join(ROOT, 'remote-agent', 'test', 'data');

/** `interface:program` for each XDP program on the node's interfaces, as the node itself lists them (its network namespace only). */
function xdpOn(node: TestNode): string[] {
  const [net] = JSON.parse(node.exec('bpftool', ['-j', 'net', 'show'])) as { xdp?: { devname: string; id: number }[] }[];
  return (net?.xdp ?? []).map((x) => `${x.devname}:${(JSON.parse(node.exec('bpftool', ['-j', 'prog', 'show', 'id', String(x.id)])) as { name: string }).name}`);
}

describe('studio requests on a namespace node over SSH (real sshd, real kernel)', () => {
  let nodes: TestNodes | undefined;
  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1'] } });
  });
  after(() => nodes?.remove());

  const start = async (): Promise<LspSession> => {
    const s = new LspSession();
    await s.initialize({ debounceMs: 0, inventory: nodes!.inventory, sshConfig: nodes!.sshConfig });
    return s;
  };
  const ping = (node: TestNode, count: number): void => {
    nodes!.clusterNetns[node.cluster]!.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', node.dataAddress]);
  };
  const nodeSummary = async (s: LspSession): Promise<NodeSummary> => ((await s.connection.sendRequest(StudioMethods.nodes, {})) as NodeSummary[]).find((n) => n.name === 'east-1')!;

  test('verifyOn gives every program a verdict per target, with its kernel', async (t) => {
    if (!requireKernel(t)) return;
    const s = await start();
    try {
      const uri = s.open(join(ROOT, 'server', 'test', 'fixtures', 'lsp', 'two-types.bpf.c'));
      const result = (await s.connection.sendRequest(StudioMethods.verifyOn, { uri, targets: ['local', 'east-1'] })) as VerifyOnResult;
      assert.deepEqual(result.unreachable, []);
      assert.ok(result.programs.length >= 2);
      for (const p of result.programs) {
        assert.deepEqual(Object.keys(p.verdicts).sort(), ['east-1', 'local'], p.name);
        for (const cell of Object.values(p.verdicts)) assert.match(cell.kernel, /^\d+\.\d+/);
      }
      const unreachable = (await s.connection.sendRequest(StudioMethods.verifyOn, { uri, targets: ['local', 'root@127.0.0.1:1'] })) as VerifyOnResult;
      assert.deepEqual(unreachable.unreachable.map((u) => u.node), ['root@127.0.0.1:1']);
    } finally {
      await s.dispose();
    }
  });

  test('attach → nodes shows it, maps count pings, trace streams ring-buffer events, detach → gone; shutdown closes what the server opened', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const s = await start();
    let disposed = false;
    try {
      const listed = await nodeSummary(s);
      assert.equal(listed.reachable, true, listed.error);
      assert.match(listed.kernel!, /^\d+\.\d+/);
      assert.equal(listed.cluster, 'east');

      const counterUri = s.open(join(DATA, 'xdp-count.bpf.c'));
      const counter = (await s.connection.sendRequest(StudioMethods.attach, { uri: counterUri, program: 'count_packets', node: 'east-1', to: node.dataIfname })) as AttachResult;
      assert.match(counter.description, new RegExp(`count_packets .* XDP on ${node.dataIfname}`));
      const withSession = await nodeSummary(s);
      const session = withSession.sessions.find((x) => x.id === counter.session)!;
      assert.equal(session.owned, true);
      assert.deepEqual(session.attachments.map((a) => [a.id, a.program]), [[counter.attachment, 'count_packets']]);
      assert.deepEqual(session.maps.map((m) => m.name), ['packets_by_proto']);
      assert.deepEqual(xdpOn(node), [`${node.dataIfname}:count_packets`], 'the node lists the program on its data interface');

      const icmp = async (): Promise<number> => {
        const page = (await s.connection.sendRequest(StudioMethods.maps, { node: 'east-1', session: counter.session, map: 'packets_by_proto', pageSize: 256 })) as MapsResult;
        return Number(page.entries.find((e) => e.key === 1)?.value ?? 0);
      };
      const before = await icmp();
      ping(node, 3);
      assert.ok((await icmp()) >= before + 3, 'the counter grew with the pings');

      const detached = (await s.connection.sendRequest(StudioMethods.detach, { node: 'east-1', session: counter.session, attachment: counter.attachment })) as DetachResult;
      assert.deepEqual(detached.detached, [counter.attachment]);
      assert.ok(await eventually(() => xdpOn(node).length === 0, 3000), 'gone on the node');
      assert.equal((await nodeSummary(s)).sessions.some((x) => x.id === counter.session), false, 'its session closed with its last attachment');

      const events: TraceEvents[] = [];
      s.connection.onNotification(StudioMethods.traceEvents, (e: TraceEvents) => void events.push(e));
      const reporterUri = s.open(join(DATA, 'xdp-events.bpf.c'));
      const reporter = (await s.connection.sendRequest(StudioMethods.attach, { uri: reporterUri, program: 'report_packets', node: 'east-1', to: node.dataIfname, leaseMs: 15_000 })) as AttachResult;
      const { trace } = (await s.connection.sendRequest(StudioMethods.traceStart, { node: 'east-1', session: reporter.session, map: 'events', btfType: 'packet_event' })) as TraceStartResult;
      ping(node, 4);
      assert.ok(await eventually(() => events.flatMap((e) => e.lines).length >= 4, 5000), 'events arrive');
      assert.ok(events.every((e) => e.trace === trace && e.droppedTransport === 0));
      assert.equal((JSON.parse(events[0]!.lines[0]!) as { protocol: number }).protocol, 1, 'decoded by BTF: ICMP');
      await s.connection.sendRequest(StudioMethods.traceStop, { trace });
      const stoppedAt = events.length;
      ping(node, 2);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(events.length, stoppedAt, 'nothing after stop');
      assert.deepEqual(xdpOn(node), [`${node.dataIfname}:report_packets`]);

      await s.dispose();
      disposed = true;
      assert.ok(await eventually(() => xdpOn(node).length === 0, 3000), 'closed at shutdown, well before its 15 s lease');
    } finally {
      if (!disposed) await s.dispose();
    }
  });
});
